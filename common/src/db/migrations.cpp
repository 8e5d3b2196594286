#include "common/db/migrations.hpp"

#include "common/log.hpp"

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

} // namespace common::db
