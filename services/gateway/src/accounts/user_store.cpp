#include "accounts/user_store.hpp"

#include "accounts/store_sql.hpp"
#include "accounts/validation.hpp"

#include "common/web/problem.hpp"

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

namespace gateway {

user_record read_user(const pqxx::row& r, int offset)
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
         "INSERT INTO users AS u (email, email_normalized, name, password_hash, status, mode_link_next_attempt_at) "
         "VALUES ($1, $2, $3, nullif($4, ''), $5, "
         "CASE WHEN $6::bigint > 0 THEN now() + $6::bigint * interval '1 millisecond' END) "
         "ON CONFLICT (email_normalized) DO NOTHING RETURNING " MB_USER_COLUMNS},
        {"user_by_id", "SELECT " MB_USER_COLUMNS " FROM users u WHERE u.id = $1::uuid"},
        {"user_by_email",
         "SELECT " MB_USER_COLUMNS ", coalesce(u.password_hash, '') FROM users u WHERE u.email_normalized = $1"},
        {"user_verify",
         "UPDATE users AS u SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() "
         "WHERE id = $1::uuid RETURNING " MB_USER_COLUMNS},
        {"user_set_password",
         "UPDATE users SET password_hash = $2, email_verified_at = coalesce(email_verified_at, now()), "
         "updated_at = now() WHERE id = $1::uuid AND status = 'active'"},
        {"user_accept_invite",
         "UPDATE users AS u SET password_hash = $2, name = coalesce(nullif($3, ''), name), status = 'active', "
         "email_verified_at = coalesce(email_verified_at, now()), updated_at = now(), "
         "mode_link_next_attempt_at = CASE WHEN mode_linked_at IS NULL "
         "THEN coalesce(mode_link_next_attempt_at, now()) END "
         "WHERE id = $1::uuid AND status = 'invited' RETURNING " MB_USER_COLUMNS},
        {"user_reset_key",
         "UPDATE users SET mode_user_key = NULL, mode_linked_at = NULL, mode_link_attempts = 0, "
         "mode_link_next_attempt_at = now(), updated_at = now() WHERE id = $1::uuid"},
        {"user_claim_one",
         "UPDATE users SET mode_link_next_attempt_at = now() + $2::bigint * interval '1 millisecond' "
         "WHERE id = $1::uuid AND mode_linked_at IS NULL "
         "AND (mode_link_next_attempt_at IS NULL OR mode_link_next_attempt_at <= now()) "
         "RETURNING id::text, mode_user_id, mode_link_attempts"},
        {"user_rehash", "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1::uuid"},
        {"user_set_mode_id",
         "UPDATE users SET mode_user_id = $2, updated_at = now() WHERE id = $1::uuid AND mode_user_id IS NULL"},
        {"user_set_linked",
         "UPDATE users SET mode_user_key = $2, mode_linked_at = now(), mode_link_next_attempt_at = NULL, "
         "mode_link_last_error = NULL, updated_at = now() WHERE id = $1::uuid"},
        // Keyset pages over the stored MODE keys not sealed in the current format ($1: its prefix).
        {"user_keys_to_reseal",
         "SELECT id::text, mode_user_key FROM users WHERE mode_user_key IS NOT NULL "
         "AND left(mode_user_key, length($1)) <> $1 AND id > $2::uuid ORDER BY id LIMIT $3"},
        {"user_reseal_key", "UPDATE users SET mode_user_key = $3 WHERE id = $1::uuid AND mode_user_key = $2"},
        {"user_link_failed",
         "UPDATE users SET mode_link_attempts = mode_link_attempts + 1, "
         "mode_link_next_attempt_at = now() + $2::bigint * interval '1 millisecond', mode_link_last_error = $3 "
         "WHERE id = $1::uuid RETURNING mode_link_attempts"},
        {"user_claim_link",
         "UPDATE users SET mode_link_next_attempt_at = now() + $1::bigint * interval '1 millisecond' "
         "WHERE id = (SELECT id FROM users WHERE mode_linked_at IS NULL AND mode_link_next_attempt_at <= now() "
         "ORDER BY mode_link_next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
         "RETURNING id::text, mode_user_id, mode_link_attempts"},
    };
}

std::optional<user_record> user_store::insert(pqxx::transaction_base& tx, const std::string& email,
                                              const std::string& name, const std::string& password_hash,
                                              std::string_view status, std::chrono::milliseconds link_lease)
{
    // ON CONFLICT keeps the caller's transaction usable when the address is taken.
    auto r = tx.exec_prepared("user_insert", email, normalize_email(email), name, password_hash, std::string(status),
                              static_cast<std::int64_t>(link_lease.count()));
    if (r.empty())
        return std::nullopt;
    return read_user(r[0]);
}

std::optional<std::pair<user_record, std::string>> user_store::find_by_email(pqxx::transaction_base& tx,
                                                                             const std::string& email)
{
    auto r = tx.exec_prepared("user_by_email", normalize_email(email));
    if (r.empty())
        return std::nullopt;
    return std::make_pair(read_user(r[0]), r[0][user_column_count].as<std::string>());
}

std::optional<user_record> user_store::set_verified(pqxx::transaction_base& tx, const std::string& id)
{
    auto r = tx.exec_prepared("user_verify", id);
    if (r.empty())
        return std::nullopt;
    return read_user(r[0]);
}

bool user_store::set_password(pqxx::transaction_base& tx, const std::string& id, const std::string& hash)
{
    return tx.exec_prepared("user_set_password", id, hash).affected_rows() == 1;
}

std::optional<user_record> user_store::accept_invite(pqxx::transaction_base& tx, const std::string& id,
                                                     const std::string& hash, const std::string& name)
{
    auto r = tx.exec_prepared("user_accept_invite", id, hash, name);
    if (r.empty())
        return std::nullopt;
    return read_user(r[0]);
}

net::awaitable<void> user_store::reset_key(std::string id)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("user_reset_key", id);
        tx.commit();
    });
}

namespace {
link_job read_job(const pqxx::row& r)
{
    link_job j;
    j.user_id = r[0].as<std::string>();
    if (!r[1].is_null())
        j.mode_user_id = r[1].as<std::int64_t>();
    j.attempts = r[2].as<int>();
    return j;
}
} // namespace

net::awaitable<std::optional<link_job>> user_store::claim_user(std::string id, std::chrono::milliseconds lease)
{
    co_return co_await db_.run([&](pqxx::connection& c) -> std::optional<link_job> {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("user_claim_one", id, static_cast<std::int64_t>(lease.count()));
        tx.commit();
        if (r.empty())
            return std::nullopt;
        return read_job(r[0]);
    });
}

net::awaitable<void> user_store::rehash(std::string id, std::string hash)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("user_rehash", id, hash);
        tx.commit();
    });
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

net::awaitable<std::vector<std::pair<std::string, std::string>>>
user_store::keys_to_reseal(std::string current_prefix, std::string after_id, int limit)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& r : tx.exec_prepared("user_keys_to_reseal", current_prefix, after_id, limit))
            out.emplace_back(r[0].as<std::string>(), r[1].as<std::string>());
        return out;
    });
}

net::awaitable<void> user_store::reseal_key(std::string id, std::string before, std::string after)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("user_reseal_key", id, before, after);
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
        return read_job(r[0]);
    });
}

} // namespace gateway
