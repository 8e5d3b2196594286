#include "common/db/migrations.hpp"

#include "support/stack.hpp"

#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <atomic>
#include <thread>
#include <vector>

BOOST_AUTO_TEST_SUITE(migrations)

namespace {
int count(pqxx::connection& c, const std::string& sql)
{
    pqxx::read_transaction tx(c);
    return tx.exec1(sql)[0].as<int>();
}
} // namespace

BOOST_AUTO_TEST_CASE(applies_every_builtin_migration_once_and_is_idempotent)
{
    test::scratch_database db;
    pqxx::connection c(db.url());
    const auto& all = common::db::builtin_migrations();
    BOOST_REQUIRE(!all.empty());

    auto first = common::db::apply_migrations(c, all);
    BOOST_TEST(first.size() == all.size());
    BOOST_TEST(count(c, "SELECT count(*) FROM schema_migrations") == static_cast<int>(all.size()));
    // The tables the services rely on exist.
    BOOST_TEST(count(c, "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('users', 'sessions')") == 2);

    auto second = common::db::apply_migrations(c, all);
    BOOST_TEST(second.empty());
    BOOST_TEST(count(c, "SELECT count(*) FROM schema_migrations") == static_cast<int>(all.size()));
}

BOOST_AUTO_TEST_CASE(concurrent_appliers_apply_each_step_exactly_once)
{
    test::scratch_database db;
    const auto& all = common::db::builtin_migrations();
    constexpr int appliers = 4;
    std::atomic<int> applied_total{0};
    std::atomic<int> failures{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < appliers; ++i) {
        threads.emplace_back([&] {
            try {
                pqxx::connection c(db.url());
                while (!go)
                    std::this_thread::yield();
                applied_total += static_cast<int>(common::db::apply_migrations(c, all).size());
            } catch (const std::exception&) {
                ++failures;
            }
        });
    }
    go = true;
    for (auto& t : threads)
        t.join();
    // Without the advisory lock, racing CREATE TABLEs fail, or steps get applied twice.
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(applied_total.load() == static_cast<int>(all.size()));
    pqxx::connection c(db.url());
    BOOST_TEST(count(c, "SELECT count(*) FROM schema_migrations") == static_cast<int>(all.size()));
}

BOOST_AUTO_TEST_CASE(a_failing_step_is_rolled_back_and_releases_the_lock)
{
    test::scratch_database db;
    pqxx::connection c(db.url());
    std::vector<common::db::migration> steps{
        {1, "0001_ok", "CREATE TABLE t1 (x int)"},
        {2, "0002_broken", "CREATE TABLE t2 (x int); SELECT no_such_function()"},
    };
    BOOST_CHECK_THROW(common::db::apply_migrations(c, steps), std::exception);
    // Step 1 stays applied; step 2 left nothing behind.
    BOOST_TEST(count(c, "SELECT count(*) FROM schema_migrations") == 1);
    BOOST_TEST(count(c, "SELECT count(*) FROM information_schema.tables WHERE table_name = 't2'") == 0);
    // The lock was released: another connection can migrate right away.
    pqxx::connection other(db.url());
    steps[1].sql = "CREATE TABLE t2 (x int)";
    auto applied = common::db::apply_migrations(other, steps);
    BOOST_TEST(applied.size() == 1U);
}

BOOST_AUTO_TEST_SUITE_END()
