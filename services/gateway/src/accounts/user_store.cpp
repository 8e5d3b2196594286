#include "accounts/user_store.hpp"

#include "accounts/store_sql.hpp"
#include "accounts/validation.hpp"

#include "common/db/pg_pool.hpp"
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
        {"user_rehash", "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1::uuid"},
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

} // namespace gateway
