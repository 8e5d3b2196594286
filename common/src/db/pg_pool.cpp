#include "common/db/pg_pool.hpp"

#include "common/log.hpp"

#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include <fmt/format.h>

namespace common::db {

namespace {

std::int64_t now_ticks()
{
    return std::chrono::steady_clock::now().time_since_epoch().count();
}

// Adds libpq connection parameters to a URI unless the operator already set them.
std::string with_params(const pool_options& o)
{
    std::string url = o.url;
    auto add = [&](const std::string& key, const std::string& value) {
        if (url.find(key + "=") != std::string::npos)
            return;
        url += (url.find('?') == std::string::npos ? '?' : '&');
        url += key + "=" + value;
    };
    add("connect_timeout", std::to_string(o.connect_timeout.count()));
    add("application_name", o.application_name);
    // Keepalives notice a peer that vanished without closing the connection.
    add("keepalives", "1");
    add("keepalives_idle", "10");
    add("keepalives_interval", "5");
    add("keepalives_count", "3");
    return url;
}

} // namespace

pg_pool::pg_pool(pool_options opts)
    : opts_(std::move(opts))
    , conninfo_(with_params(opts_))
    , workers_(opts_.size)
{
}

pg_pool::~pg_pool()
{
    workers_.join();
}

std::unique_ptr<pqxx::connection> pg_pool::acquire()
{
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            if (c->is_open())
                return c;
        }
    }
    if (now_ticks() < down_until_.load(std::memory_order_relaxed))
        throw unavailable("database unavailable");
    try {
        auto c = std::make_unique<pqxx::connection>(conninfo_);
        {
            pqxx::nontransaction setup(*c);
            setup.exec(fmt::format("SET statement_timeout = {}", opts_.statement_timeout.count()));
        }
        for (const auto& [name, sql] : opts_.statements)
            c->prepare(name, sql);
        return c;
    } catch (const pqxx::broken_connection& e) {
        // Fail fast for a moment rather than paying a connect attempt on every request.
        auto backoff = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::milliseconds(500));
        down_until_.store(now_ticks() + backoff.count(), std::memory_order_relaxed);
        log::warn("db.connect", {{"error", std::string(e.what()).substr(0, 200)}});
        throw unavailable("database unavailable");
    }
}

void pg_pool::release(std::unique_ptr<pqxx::connection> c)
{
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(c));
}

void pg_pool::broken(const std::exception& e)
{
    log::warn("db.connection_lost", {{"error", std::string(e.what()).substr(0, 200)}});
    throw unavailable("database connection lost");
}

net::awaitable<bool> pg_pool::ping()
{
    try {
        co_return co_await run([](pqxx::connection& c) {
            pqxx::nontransaction tx(c);
            tx.exec("SELECT 1");
            return true;
        });
    } catch (const std::exception&) {
    }
    co_return false;
}

} // namespace common::db
