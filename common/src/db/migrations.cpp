#include "common/db/migrations.hpp"

#include "common/db/pg_pool.hpp"
#include "common/log.hpp"
#include "common/util/backoff.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include <set>
#include <string>

namespace common::db {

namespace {
// The advisory lock key all modebridge instances agree on ("mbschema").
constexpr long long migration_lock_key = 0x6d62736368656d61LL;
} // namespace

std::vector<int> apply_migrations(pqxx::connection& c, const std::vector<migration>& all)
{
    std::vector<int> applied;
    {
        pqxx::nontransaction tx(c);
        tx.exec_params("SELECT pg_advisory_lock($1)", migration_lock_key);
    }
    try {
        std::set<int> done;
        {
            pqxx::work tx(c);
            tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())");
            for (const auto& row : tx.exec("SELECT version FROM schema_migrations"))
                done.insert(row[0].as<int>());
            tx.commit();
        }
        for (const auto& m : all) {
            if (done.count(m.version) != 0)
                continue;
            pqxx::work tx(c);
            tx.exec(std::string(m.sql));
            tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                           std::string(m.name));
            tx.commit();
            applied.push_back(m.version);
            log::info("db.migration_applied", {{"version", m.version}, {"name", m.name}});
        }
    } catch (...) {
        try {
            pqxx::nontransaction tx(c);
            tx.exec_params("SELECT pg_advisory_unlock($1)", migration_lock_key);
        } catch (...) {
            // The connection is gone, and the lock with it.
        }
        throw;
    }
    pqxx::nontransaction tx(c);
    tx.exec_params("SELECT pg_advisory_unlock($1)", migration_lock_key);
    return applied;
}

net::awaitable<void> migrate_until_done(pg_pool& pool, std::atomic<bool>& done, const std::atomic<bool>& stop)
{
    backoff retry(std::chrono::milliseconds(250), std::chrono::milliseconds(10'000), jitter::none);
    net::steady_timer timer(co_await net::this_coro::executor);
    while (!stop) {
        std::chrono::milliseconds delay{};
        try {
            auto applied = co_await pool.run([](pqxx::connection& c) { return apply_migrations(c, builtin_migrations()); });
            log::info("db.migrations_ready", {{"applied_now", applied.size()}});
            done = true;
            co_return;
        } catch (const std::exception& e) {
            delay = retry.next();
            log::warn("db.migrations_pending", {{"error", std::string(e.what()).substr(0, 300)},
                                                {"retry_in_ms", delay.count()}});
        }
        timer.expires_after(delay);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
}

} // namespace common::db
