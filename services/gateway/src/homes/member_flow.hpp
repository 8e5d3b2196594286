#pragma once

#include "sessions/session_auth.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace common::db {
class pg_pool;
}
namespace common::redis {
class connection;
}
namespace common::ratelimit {
class limiter;
}

namespace gateway {

struct settings;
class mail_outbox;
class mail_worker;
class membership_store;
class mode_access;
class mode_linker;
class user_store;
class link_store;

/** What an add-member request produced. */
struct member_result
{
    enum class outcome { added, existing, pending } what = outcome::added;
    json::object body; // the member (added, existing) or the pending invitation
};

/**
 * The add-member flow of the BYOU guide, as api.md describes it. The owner names a person by email:
 * a user of ours is added by their MODE user id; anyone else gets an invited account here, linked to a
 * new MODE user, added, and mailed an invitation. Either way the new member is told (mail, and a
 * `member.added` message on their live stream) once. Retries are safe: a repeat answers with the
 * existing membership, and an invited account left by a failure half-way is reused by the next attempt.
 * Before anything is made, the request is counted against MB_RATE_INVITATIONS_PER_USER and MODE must list
 * the caller as an owner of the home (read with the caller's key).
 *
 * With MB_MEMBER_FLOW=confirm-first the membership is made only when the invitee accepts
 * (`accept`), with the project key, the owner having consented when inviting; the consent stands only
 * while MODE still lists the inviter as an owner of the home.
 * Runs on the request's strand; queries on the database pool's workers. Thread-safety: shared.
 */
class member_flow
{
public:
    struct parts
    {
        const settings& cfg;
        common::db::pg_pool& db;
        common::redis::connection& redis;
        mode_access& mode;
        mode_linker& linker;
        user_store& users;
        link_store& links;
        membership_store& members;
        mail_outbox& outbox;
        mail_worker& mailer;
        common::ratelimit::limiter& limiter;
    };

    explicit member_flow(parts p)
        : p_(p)
    {
    }

    net::awaitable<member_result> add(const caller& owner, std::int64_t home_id, std::string email, std::string role);

    /** Accepts a confirm-first invitation for `invitee`; the member. 400 INVALID_TOKEN when there is none;
        409 INVITATION_VOID (and the invitation ends) when its inviter is no longer an owner of the home. */
    net::awaitable<json::object> accept(const std::string& token, const std::string& invitee_id);

private:
    struct invitee;
    net::awaitable<invitee> find_or_invite(const std::string& email);
    net::awaitable<std::int64_t> mode_user_of(invitee& who);
    net::awaitable<void> tell(const caller& owner, std::int64_t home_id, const std::string& home_name,
                              const invitee& who, const std::string& role);
    /** The home's members as MODE lists them to `owner`; 403 MODE_PERMISSION_DENIED unless an owner. */
    net::awaitable<json::value> members_if_owner(const caller& owner, std::int64_t home_id);
    /** Whether the inviter (an account id, none when deleted) is still an owner of the home, per MODE. */
    net::awaitable<bool> still_owner(std::int64_t home_id, const std::optional<std::string>& inviter_id);
    net::awaitable<member_result> invite_to_confirm(const caller& owner, std::int64_t home_id,
                                                    const json::value& members, invitee who, std::string role);

    parts p_;
};

} // namespace gateway
