#pragma once

#include <pqxx/connection>

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

} // namespace common::db
