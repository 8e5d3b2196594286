#include "mode/link_store.hpp"

#include "common/db/pg_pool.hpp"

#include <pqxx/result>
#include <pqxx/transaction>

namespace gateway {

std::vector<std::pair<std::string, std::string>> link_store::statements()
{
    return {
        {"user_reset_key",
         "UPDATE users SET mode_user_key = NULL, mode_linked_at = NULL, mode_link_attempts = 0, "
         "mode_link_next_attempt_at = now(), updated_at = now() WHERE id = $1::uuid"},
        {"user_claim_one",
         "UPDATE users SET mode_link_next_attempt_at = now() + $2::bigint * interval '1 millisecond' "
         "WHERE id = $1::uuid AND mode_linked_at IS NULL "
         "AND (mode_link_next_attempt_at IS NULL OR mode_link_next_attempt_at <= now()) "
         "RETURNING id::text, mode_user_id, mode_link_attempts"},
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

net::awaitable<void> link_store::reset_key(std::string id)
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

net::awaitable<std::optional<link_job>> link_store::claim_user(std::string id, std::chrono::milliseconds lease)
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

net::awaitable<void> link_store::set_mode_user_id(std::string id, std::int64_t mode_user_id)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("user_set_mode_id", id, mode_user_id);
        tx.commit();
    });
}

net::awaitable<void> link_store::set_linked(std::string id, std::string sealed_key_b64)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("user_set_linked", id, sealed_key_b64);
        tx.commit();
    });
}

net::awaitable<std::vector<std::pair<std::string, std::string>>>
link_store::keys_to_reseal(std::string current_prefix, std::string after_id, int limit)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& r : tx.exec_prepared("user_keys_to_reseal", current_prefix, after_id, limit))
            out.emplace_back(r[0].as<std::string>(), r[1].as<std::string>());
        return out;
    });
}

net::awaitable<void> link_store::reseal_key(std::string id, std::string before, std::string after)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("user_reseal_key", id, before, after);
        tx.commit();
    });
}

net::awaitable<int> link_store::link_failed(std::string id, std::chrono::milliseconds delay, std::string reason)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("user_link_failed", id, static_cast<std::int64_t>(delay.count()), reason);
        tx.commit();
        return r.empty() ? 0 : r[0][0].as<int>();
    });
}

net::awaitable<std::optional<link_job>> link_store::claim_link(std::chrono::milliseconds lease)
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
