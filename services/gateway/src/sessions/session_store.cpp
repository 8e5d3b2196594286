#include "sessions/session_store.hpp"

#include "accounts/store_sql.hpp"

#include "common/crypto/crypto.hpp"
#include "common/db/pg_pool.hpp"

#include <pqxx/result>
#include <pqxx/transaction>

namespace gateway {

namespace {

bool is_uuid(const std::string& s)
{
    if (s.size() != 36)
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

} // namespace

std::vector<std::pair<std::string, std::string>> session_store::statements()
{
    return {
        {"session_insert",
         "INSERT INTO sessions (user_id, token_hash, expires_at, user_agent, ip) "
         "VALUES ($1::uuid, $2, now() + $3::bigint * interval '1 millisecond', $4, $5) "
         "RETURNING id::text, " MB_TS("expires_at")},
        {"session_lookup",
         "SELECT s.id::text, (extract(epoch FROM s.expires_at) * 1000)::bigint, "
         "(extract(epoch FROM s.last_seen_at) * 1000)::bigint, " MB_USER_COLUMNS
         ", coalesce(u.mode_user_key, '') FROM sessions s JOIN users u ON u.id = s.user_id "
         "WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() "
         "AND s.last_seen_at > now() - $2::bigint * interval '1 millisecond'"},
        {"session_touch", "UPDATE sessions SET last_seen_at = now() WHERE id = $1::uuid AND revoked_at IS NULL"},
        {"session_list",
         "SELECT id::text, " MB_TS("created_at") ", " MB_TS("last_seen_at") ", " MB_TS("expires_at")
         ", coalesce(user_agent, ''), coalesce(ip, '') FROM sessions "
         "WHERE user_id = $1::uuid AND revoked_at IS NULL AND expires_at > now() "
         "AND last_seen_at > now() - $2::bigint * interval '1 millisecond' ORDER BY created_at DESC"},
        {"session_revoke",
         "UPDATE sessions SET revoked_at = now() "
         "WHERE id = $1::uuid AND user_id = $2::uuid AND revoked_at IS NULL RETURNING id"},
        {"session_revoke_all", "UPDATE sessions SET revoked_at = now() WHERE user_id = $1::uuid AND revoked_at IS NULL"},
    };
}

new_session session_store::create(pqxx::transaction_base& tx, const std::string& user_id,
                                  const std::string& user_agent, const std::string& ip) const
{
    new_session s;
    s.token = common::crypto::random_token(32);
    auto r = tx.exec_prepared1("session_insert", user_id, common::crypto::sha256_hex(s.token),
                               static_cast<std::int64_t>(lifetime_.count()), user_agent.substr(0, 256), ip);
    s.id = r[0].as<std::string>();
    s.expires_at = r[1].as<std::string>();
    return s;
}

net::awaitable<std::optional<session_row>> session_store::lookup(std::string token_hash)
{
    co_return co_await db_.run([&](pqxx::connection& c) -> std::optional<session_row> {
        pqxx::read_transaction tx(c);
        auto r = tx.exec_prepared("session_lookup", token_hash, static_cast<std::int64_t>(idle_.count()));
        if (r.empty())
            return std::nullopt;
        session_row s;
        s.id = r[0][0].as<std::string>();
        s.expires_at_ms = r[0][1].as<std::int64_t>();
        s.last_seen_ms = r[0][2].as<std::int64_t>();
        s.user = read_user(r[0], 3);
        s.sealed_mode_key = r[0][3 + user_column_count].as<std::string>();
        return s;
    });
}

net::awaitable<void> session_store::touch(std::string session_id)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("session_touch", session_id);
        tx.commit();
    });
}

net::awaitable<std::vector<session_summary>> session_store::list(std::string user_id)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        std::vector<session_summary> out;
        for (const auto& r : tx.exec_prepared("session_list", user_id, static_cast<std::int64_t>(idle_.count()))) {
            session_summary s;
            s.id = r[0].as<std::string>();
            s.created_at = r[1].as<std::string>();
            s.last_seen_at = r[2].as<std::string>();
            s.expires_at = r[3].as<std::string>();
            s.user_agent = r[4].as<std::string>();
            s.ip = r[5].as<std::string>();
            out.push_back(std::move(s));
        }
        return out;
    });
}

net::awaitable<bool> session_store::revoke(std::string user_id, std::string session_id)
{
    if (!is_uuid(session_id))
        co_return false;
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("session_revoke", session_id, user_id);
        tx.commit();
        return !r.empty();
    });
}

void session_store::revoke_all(pqxx::transaction_base& tx, const std::string& user_id) const
{
    tx.exec_prepared("session_revoke_all", user_id);
}

} // namespace gateway
