#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <pqxx/connection>

#include <atomic>

#include <string_view>
#include <vector>

namespace common::db {

/** One schema step: `version` orders them and is recorded once applied. */
struct migration
{
    int version;
    std::string_view name;
    std::string_view sql;
};

/** The migrations under deploy/sql, embedded at build time, in version order. */
const std::vector<migration>& builtin_migrations();

/**
 * Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction, while
 * holding a PostgreSQL advisory lock, so that instances starting at once apply each step exactly once
 * (the others wait, then find nothing to do). Returns the versions this call applied. Blocking: call it
 * on a pool worker.
 */
std::vector<int> apply_migrations(pqxx::connection& c, const std::vector<migration>& all);

class pg_pool;

/**
 * Applies the built-in migrations through `pool`, retrying with backoff while the database is
 * unreachable, until they are applied or `stop` is set. Sets `done` on success. Services run it at
 * start and report not-ready until it finishes.
 */
net::awaitable<void> migrate_until_done(pg_pool& pool, std::atomic<bool>& done, const std::atomic<bool>& stop);

} // namespace common::db
