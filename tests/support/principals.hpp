#pragma once

// The callers an authorization check tells apart, made through a mode_fixture's real gateway and emulator,
// and the homes they are (or were) members of.

#include "support/mode_fixture.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace test {

/** One caller: its name (a column heading), who it is, and the bearer token it sends (empty: none). */
struct principal
{
    std::string name;
    std::string email;          // empty for anonymous
    std::string token;          // empty: no Authorization header
    std::int64_t mode_user = 0; // its MODE user id; 0 when it has none
};

/**
 * Every kind of caller a home's routes tell apart:
 * - anonymous: sends no token;
 * - unverified: registered, email not verified; its login is refused (403 EMAIL_NOT_VERIFIED, no session),
 *   so it holds no token either: what it sends is what it can reach;
 * - revoked: a session of the owner's, after POST /v1/auth/logout;
 * - stranger: verified, linked to MODE, in none of the owner's homes;
 * - removed_by_gateway, removed_in_mode: were members of every shared_home, then removed, by the owner
 *   through the gateway and by the project directly in MODE (as a company's admin does);
 * - member: a member (role "member") of every shared_home;
 * - owner: the owner of every shared_home.
 * Everyone but anonymous and unverified is a verified, linked, logged-in user.
 */
struct principals
{
    explicit principals(mode_fixture& f);

    principal anonymous, unverified, revoked, stranger, removed_by_gateway, removed_in_mode, member, owner;

    /** All of them, in the order above. */
    std::vector<const principal*> all() const;
};

/** A new verified, linked, logged-in user. */
principal linked_user(mode_fixture& f, const std::string& name);

/** A new home of `p.owner`'s with `p.member` in it, and both removed members added and then removed. */
std::int64_t shared_home(mode_fixture& f, const principals& p, const std::string& name = "Shared home");

/** Adds `email` (role member) to `home` through the gateway as the holder of `owner_token`; 201 expected. */
void add_member(mode_fixture& f, const std::string& owner_token, std::int64_t home, const std::string& email);

/** Removes MODE user `mode_user` from `home` in MODE itself, with the project key; 204 expected. */
void remove_in_mode(mode_fixture& f, std::int64_t home, std::int64_t mode_user);

/** Logs the holder of `email` in once more: {token, id of that session as GET /v1/me/sessions shows it}. */
std::pair<std::string, std::string> another_session(mode_fixture& f, const std::string& email);

} // namespace test
