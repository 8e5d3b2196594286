#pragma once

#include "accounts/user_store.hpp"

#include <pqxx/transaction_base>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gateway {

/** A live session found by its token, with its owner. Times in milliseconds since the epoch. */
struct session_row
{
    std::string id;
    user_record user;
    std::int64_t expires_at_ms = 0;
    std::int64_t last_seen_ms = 0;
    std::string sealed_mode_key; // the user's MODE key as stored (sealed); empty until linked
};

/** A session as its owner sees it in GET /v1/me/sessions. */
struct session_summary
{
    std::string id, created_at, last_seen_at, expires_at, user_agent, ip;
};

/** A session just opened: the bearer token (shown once, never stored) and when it ends at the latest. */
struct new_session
{
    std::string token;
    std::string id;
    std::string expires_at;
};

/**
 * Sessions in PostgreSQL: opaque bearer tokens stored as SHA-256, an idle timeout against last_seen_at,
 * an absolute expiry, and revocation. Runs on the caller's executor; each query on the database pool's
 * workers. Thread-safety: shared.
 */
class session_store
{
public:
    session_store(common::db::pg_pool& db, std::chrono::milliseconds idle_timeout, std::chrono::milliseconds lifetime)
        : db_(db)
        , idle_(idle_timeout)
        , lifetime_(lifetime)
    {
    }

    static std::vector<std::pair<std::string, std::string>> statements();

    /** Opens a session for `user_id` inside `tx`. */
    new_session create(pqxx::transaction_base& tx, const std::string& user_id, const std::string& user_agent,
                       const std::string& ip) const;

    net::awaitable<std::optional<session_row>> lookup(std::string token_hash);
    /** Records use of the session (for the idle timeout). */
    net::awaitable<void> touch(std::string session_id);
    net::awaitable<std::vector<session_summary>> list(std::string user_id);
    /** Revokes one session of `user_id`; false when it has none by that id. */
    net::awaitable<bool> revoke(std::string user_id, std::string session_id);
    /** Revokes every session of `user_id` inside `tx`. */
    void revoke_all(pqxx::transaction_base& tx, const std::string& user_id) const;

    std::chrono::milliseconds idle_timeout() const noexcept { return idle_; }

private:
    common::db::pg_pool& db_;
    std::chrono::milliseconds idle_;
    std::chrono::milliseconds lifetime_;
};

} // namespace gateway
