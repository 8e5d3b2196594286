#include "common/db/pg_pool.hpp"

#include "support/process.hpp"
#include "support/stack.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <mutex>
#include <set>
#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(pg_pool)

namespace {

common::db::pool_options options(const std::string& url, std::size_t size = 2)
{
    common::db::pool_options o;
    o.url = url;
    o.size = size;
    o.connect_timeout = std::chrono::seconds(2);
    o.statements = {{"add", "SELECT $1::int + $2::int"}, {"backend", "SELECT pg_backend_pid()"}};
    return o;
}

template <class F>
void run_coro(F f, std::chrono::seconds limit = std::chrono::seconds(20))
{
    net::io_context ioc;
    bool done = false;
    std::exception_ptr error;
    net::co_spawn(ioc, f(), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    ioc.run_for(limit);
    BOOST_REQUIRE_MESSAGE(done, "the coroutine did not finish in time");
    if (error)
        std::rethrow_exception(error);
}

} // namespace

BOOST_AUTO_TEST_CASE(runs_prepared_statements_off_the_calling_thread)
{
    test::scratch_database db;
    common::db::pg_pool pool(options(db.url()));
    auto caller = std::this_thread::get_id();
    run_coro([&]() -> net::awaitable<void> {
        std::thread::id worker;
        int sum = co_await pool.run([&](pqxx::connection& c) {
            worker = std::this_thread::get_id();
            pqxx::read_transaction tx(c);
            return tx.exec_prepared1("add", 2, 40)[0].as<int>();
        });
        BOOST_TEST(sum == 42);
        BOOST_TEST((worker != caller));
        // Back on the caller's executor afterwards.
        BOOST_TEST((std::this_thread::get_id() == caller));
    });
}

BOOST_AUTO_TEST_CASE(many_concurrent_jobs_share_a_bounded_set_of_connections)
{
    test::scratch_database db;
    common::db::pg_pool pool(options(db.url(), 3));
    std::set<int> backends;
    std::mutex m;
    int finished = 0;
    net::io_context ioc;
    for (int i = 0; i < 60; ++i) {
        net::co_spawn(
            ioc,
            [&, i]() -> net::awaitable<void> {
                int v = co_await pool.run([&, i](pqxx::connection& c) {
                    pqxx::read_transaction tx(c);
                    std::lock_guard lock(m);
                    backends.insert(tx.exec_prepared1("backend")[0].as<int>());
                    return tx.exec_prepared1("add", i, 1)[0].as<int>();
                });
                BOOST_TEST(v == i + 1);
                ++finished;
            },
            [](std::exception_ptr e) {
                if (e)
                    std::rethrow_exception(e);
            });
    }
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST(finished == 60);
    BOOST_TEST(backends.size() <= 3U);
}

BOOST_AUTO_TEST_CASE(query_errors_propagate_and_leave_the_pool_usable)
{
    test::scratch_database db;
    common::db::pg_pool pool(options(db.url(), 1));
    run_coro([&]() -> net::awaitable<void> {
        bool threw = false;
        try {
            co_await pool.run([](pqxx::connection& c) {
                pqxx::work tx(c);
                tx.exec("SELECT no_such_column FROM pg_class");
            });
        } catch (const pqxx::sql_error&) {
            threw = true;
        }
        BOOST_TEST(threw);
        BOOST_TEST(co_await pool.ping());
    });
}

BOOST_AUTO_TEST_CASE(an_unreachable_database_is_unavailable_not_a_hang)
{
    // Nothing listens on a port that was free a moment ago.
    auto url = "postgresql://nobody:x@127.0.0.1:" + std::to_string(test::free_port()) + "/none";
    common::db::pg_pool pool(options(url, 1));
    run_coro([&]() -> net::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
            bool unavailable = false;
            try {
                co_await pool.run([](pqxx::connection&) { return 1; });
            } catch (const common::db::unavailable& e) {
                unavailable = true;
                BOOST_TEST(e.code() == "STORE_UNAVAILABLE");
            }
            BOOST_TEST(unavailable);
        }
        BOOST_TEST(!(co_await pool.ping()));
    });
}

BOOST_AUTO_TEST_SUITE_END()
