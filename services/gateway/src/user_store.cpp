#include "user_store.hpp"

#include "validation.hpp"

#include "common/web/problem.hpp"

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

namespace gateway {

namespace {

// The columns of user_record, in order, for every statement that returns a user.
#define MB_USER_COLUMNS                                                                                        \
    "u.id::text, u.email, u.name, u.status, u.email_verified_at IS NOT NULL, "                                 \
    "to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), u.mode_user_id, "         \
    "u.mode_linked_at IS NOT NULL"

user_record read_user(const pqxx::row& r, int offset = 0)
{
    user_record u;
    u.id = r[offset + 0].as<std::string>();
    u.email = r[offset + 1].as<std::string>();
    u.name = r[offset + 2].as<std::string>();
    u.status = r[offset + 3].as<std::string>();
    u.email_verified = r[offset + 4].as<bool>();
    u.created_at = r[offset + 5].as<std::string>();
    if (!r[offset + 6].is_null())
        u.mode_user_id = r[offset + 6].as<std::int64_t>();
    u.mode_linked = r[offset + 7].as<bool>();
    return u;
}

} // namespace

boost::json::object to_json(const user_record& u)
{
    boost::json::object mode;
    if (u.mode_user_id)
        mode["userId"] = *u.mode_user_id;
    else
        mode["userId"] = nullptr;
    mode["linked"] = u.mode_linked;
    return boost::json::object{{"id", u.id},
                               {"email", u.email},
                               {"name", u.name},
                               {"emailVerified", u.email_verified},
                               {"createdAt", u.created_at},
                               {"mode", std::move(mode)}};
}

std::vector<std::pair<std::string, std::string>> user_store::statements()
{
    return {
        {"user_insert",
         "INSERT INTO users AS u (email, email_normalized, name, password_hash, mode_link_next_attempt_at) "
         "VALUES ($1, $2, $3, $4, now() + $5::bigint * interval '1 millisecond') RETURNING " MB_USER_COLUMNS},
        {"user_by_id", "SELECT " MB_USER_COLUMNS " FROM users u WHERE u.id = $1::uuid"},
        {"user_set_mode_id",
         "UPDATE users SET mode_user_id = $2, updated_at = now() WHERE id = $1::uuid AND mode_user_id IS NULL"},
        {"user_set_linked",
         "UPDATE users SET mode_user_key = $2, mode_linked_at = now(), mode_link_next_attempt_at = NULL, "
         "mode_link_last_error = NULL, updated_at = now() WHERE id = $1::uuid"},
        {"user_link_failed",
         "UPDATE users SET mode_link_attempts = mode_link_attempts + 1, "
         "mode_link_next_attempt_at = now() + $2::bigint * interval '1 millisecond', mode_link_last_error = $3 "
         "WHERE id = $1::uuid RETURNING mode_link_attempts"},
        {"user_claim_link",
         "UPDATE users SET mode_link_next_attempt_at = now() + $1::bigint * interval '1 millisecond' "
         "WHERE id = (SELECT id FROM users WHERE mode_linked_at IS NULL AND mode_link_next_attempt_at <= now() "
         "ORDER BY mode_link_next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
         "RETURNING id::text, mode_user_id, mode_link_attempts"},
        {"session_user",
         "SELECT " MB_USER_COLUMNS " FROM sessions s JOIN users u ON u.id = s.user_id "
         "WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() "
         "AND s.last_seen_at > now() - $2::bigint * interval '1 millisecond'"},
    };
}

net::awaitable<user_record> user_store::create(std::string email, std::string name, std::string password_hash,
                                               std::chrono::milliseconds link_lease)
{
    auto job = [&](pqxx::connection& c) -> std::optional<user_record> {
        pqxx::work tx(c);
        try {
            auto r = tx.exec_prepared1("user_insert", email, normalize_email(email), name, password_hash,
                                       static_cast<std::int64_t>(link_lease.count()));
            tx.commit();
            return read_user(r);
        } catch (const pqxx::unique_violation&) {
            return std::nullopt;
        }
    };
    auto created = co_await db_.run(job);
    if (!created)
        throw common::web::problem(http::status::conflict, "EMAIL_TAKEN",
                                   "an account with this email address already exists");
    co_return std::move(*created);
}

net::awaitable<std::optional<user_record>> user_store::find(std::string id)
{
    co_return co_await db_.run([&](pqxx::connection& c) -> std::optional<user_record> {
        pqxx::read_transaction tx(c);
        auto r = tx.exec_prepared("user_by_id", id);
        if (r.empty())
            return std::nullopt;
        return read_user(r[0]);
    });
}

net::awaitable<void> user_store::set_mode_user_id(std::string id, std::int64_t mode_user_id)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("user_set_mode_id", id, mode_user_id);
        tx.commit();
    });
}

net::awaitable<void> user_store::set_linked(std::string id, std::string sealed_key_b64)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("user_set_linked", id, sealed_key_b64);
        tx.commit();
    });
}

net::awaitable<int> user_store::link_failed(std::string id, std::chrono::milliseconds delay, std::string reason)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("user_link_failed", id, static_cast<std::int64_t>(delay.count()), reason);
        tx.commit();
        return r.empty() ? 0 : r[0][0].as<int>();
    });
}

net::awaitable<std::optional<link_job>> user_store::claim_link(std::chrono::milliseconds lease)
{
    co_return co_await db_.run([&](pqxx::connection& c) -> std::optional<link_job> {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("user_claim_link", static_cast<std::int64_t>(lease.count()));
        tx.commit();
        if (r.empty())
            return std::nullopt;
        link_job j;
        j.user_id = r[0][0].as<std::string>();
        if (!r[0][1].is_null())
            j.mode_user_id = r[0][1].as<std::int64_t>();
        j.attempts = r[0][2].as<int>();
        return j;
    });
}

net::awaitable<std::optional<user_record>> user_store::session_user(std::string token_hash,
                                                                    std::chrono::milliseconds idle)
{
    co_return co_await db_.run([&](pqxx::connection& c) -> std::optional<user_record> {
        pqxx::read_transaction tx(c);
        auto r = tx.exec_prepared("session_user", token_hash, static_cast<std::int64_t>(idle.count()));
        if (r.empty())
            return std::nullopt;
        return read_user(r[0]);
    });
}

} // namespace gateway
