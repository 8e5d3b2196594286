#pragma once

#include "accounts/sign_in.hpp"

#include <optional>
#include <string>
#include <vector>

namespace common::db {
class pg_pool;
}

namespace gateway {

struct settings;
class login_guard;
class password_hasher;
class session_bus;
class session_store;
class user_store;

/**
 * Signing in and out (api.md): log in (behind the login limits of login_guard, the password checked on
 * the bounded hashing pool, against a dummy hash for unknown addresses), log out, and the caller's
 * sessions (list, revoke). A revocation reaches every instance through the session bus.
 * Runs on the caller's executor. Thread-safety: shared.
 */
class login_flow
{
public:
    struct deps
    {
        const settings& cfg;
        common::db::pg_pool& db;
        password_hasher& hasher;
        login_guard& guard;
        user_store& users;
        session_store& sessions;
        session_bus& bus;
    };

    explicit login_flow(deps d)
        : d_(d)
    {
    }

    /** `device_token`: what an earlier login on this client returned (see login_guard). */
    net::awaitable<sign_in> login(std::string email, std::string password, const client_info& client,
                                  std::optional<std::string> device_token = std::nullopt);
    net::awaitable<void> logout(const std::string& user_id, const std::string& session_id);
    net::awaitable<std::vector<session_summary>> list_sessions(std::string user_id);
    net::awaitable<void> revoke_session(std::string user_id, std::string session_id);

private:
    net::awaitable<sign_in> attempt_login(std::string email, std::string password, const client_info& client,
                                          std::optional<std::string> device_token);
    /** The account with this address and its hash, when `password` is its password. */
    net::awaitable<std::optional<std::pair<user_record, std::string>>> check_password(const std::string& email,
                                                                                      const std::string& password);

    deps d_;
};

} // namespace gateway
