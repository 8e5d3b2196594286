#include "common/db/pg_pool.hpp"

#include "support/http_call.hpp"
#include "support/process.hpp"
#include "support/services.hpp"
#include "support/stack.hpp"
#include "support/tcp_relay.hpp"
#include "support/wait.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <atomic>
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

namespace {

// Backends of this database whose current statement is running (or waiting on a lock), by application name.
int active_backends(const std::string& admin_url, const std::string& application_name)
{
    pqxx::connection c(admin_url);
    pqxx::nontransaction tx(c);
    return tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND application_name = $1 AND state = 'active'",
                           application_name)[0]
        .as<int>();
}

} // namespace

// Not timing: while the test holds a lock every job needs, all of the pool's connections are seen waiting
// on it at once in pg_stat_activity, and never more than the pool's size.
BOOST_AUTO_TEST_CASE(a_pool_of_n_runs_n_statements_at_once_and_no_more)
{
    test::scratch_database db;
    constexpr int size = 3;
    auto o = options(db.url(), size);
    o.application_name = "mb-pool-concurrency";
    // Nothing here may time out while the jobs wait on the test's lock.
    o.statement_timeout = std::chrono::seconds(60);
    o.queue_timeout = std::chrono::seconds(60);
    common::db::pg_pool pool(o);

    pqxx::connection holder(db.url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("SELECT pg_advisory_xact_lock(4242)");

    std::atomic<int> finished{0}, failed{0};
    net::io_context ioc;
    for (int i = 0; i < size + 2; ++i)
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                co_await pool.run([](pqxx::connection& c) {
                    pqxx::work tx(c);
                    tx.exec("SELECT pg_advisory_xact_lock_shared(4242)");
                    tx.commit();
                });
                ++finished;
            },
            [&](std::exception_ptr e) {
                if (e)
                    ++failed;
            });
    std::thread runner([&] { ioc.run_for(std::chrono::seconds(60)); });
    struct join_on_exit
    {
        std::thread& t;
        pqxx::work& tx;
        ~join_on_exit()
        {
            try {
                tx.abort(); // frees the jobs, whatever happened
            } catch (...) {
            }
            t.join();
        }
    } guard{runner, lock_tx};

    int seen = 0;
    BOOST_TEST(test::eventually([&] { return (seen = active_backends(db.admin_url(), o.application_name)) == size; },
                                std::chrono::seconds(20)),
               "statements running at once: " << seen << ", the pool has " << size);
    BOOST_TEST(finished.load() == 0);
    // The two jobs beyond the pool's size wait for a connection, not in PostgreSQL.
    BOOST_TEST(active_backends(db.admin_url(), o.application_name) == size);
    BOOST_TEST(pool.waiting() == 2U);
    lock_tx.abort();
    BOOST_TEST(test::eventually([&] { return finished.load() == size + 2; }, std::chrono::seconds(20)),
               "finished: " << finished.load() << ", failed: " << failed.load());
}

// MB_DB_TIMEOUT: PostgreSQL itself cancels a statement that runs longer (not the watchdog, which is set
// far beyond here): the job fails with `unavailable` near the timeout, the backend no longer runs it, and
// the connection stays in the pool.
BOOST_AUTO_TEST_CASE(a_statement_running_past_the_timeout_is_cancelled_by_postgresql)
{
    test::scratch_database db;
    auto o = options(db.url(), 1);
    o.application_name = "mb-pool-timeout";
    o.statement_timeout = std::chrono::milliseconds(1000);
    o.stall_grace = std::chrono::seconds(30);
    common::db::pg_pool pool(o);
    run_coro(
        [&]() -> net::awaitable<void> {
            int before = co_await pool.run([](pqxx::connection& c) {
                pqxx::read_transaction tx(c);
                return tx.exec_prepared1("backend")[0].as<int>();
            });
            auto started = std::chrono::steady_clock::now();
            std::string failure = "none";
            try {
                co_await pool.run([](pqxx::connection& c) {
                    pqxx::work tx(c);
                    tx.exec("SELECT pg_sleep(25)");
                });
            } catch (const common::db::unavailable& e) {
                failure = std::string("unavailable: ") + e.what();
            } catch (const std::exception& e) {
                failure = std::string("other: ") + e.what();
            }
            auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
            BOOST_TEST(failure.starts_with("unavailable"), failure);
            BOOST_TEST((took >= std::chrono::milliseconds(500) && took <= std::chrono::milliseconds(3000)),
                       "cancelled after " << took.count() << " ms; the timeout is 1000 ms");
            BOOST_TEST(active_backends(db.admin_url(), o.application_name) == 0);
            int after = co_await pool.run([](pqxx::connection& c) {
                pqxx::read_transaction tx(c);
                return tx.exec_prepared1("backend")[0].as<int>();
            });
            BOOST_TEST(after == before, "the connection was replaced: a cancelled statement does not break it");
        },
        std::chrono::seconds(40));
}

// The same through a service: a request whose statement waits (on a lock the test holds) past MB_DB_TIMEOUT
// gets 503 STORE_UNAVAILABLE near the timeout, and the gateway's backend has stopped waiting.
BOOST_AUTO_TEST_CASE(a_request_stuck_in_the_database_gets_503_at_mb_db_timeout)
{
    test::scratch_database db;
    auto gw = test::start_gateway(db.url(), "http://127.0.0.1:1", {{"MB_DB_TIMEOUT", "1500ms"}});
    pqxx::connection holder(db.admin_url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE");
    auto started = std::chrono::steady_clock::now();
    // An unknown session token: the gateway must read the sessions table to know.
    auto r = test::http_call(gw.port, http::verb::get, "/v1/me", {},
                             {{"Authorization", "Bearer mbs_0123456789abcdef0123456789abcdef"}}, std::chrono::seconds(20));
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    BOOST_TEST(r.status == 503U, r);
    if (r.status == 503U)
        BOOST_TEST(r.json().at("code").as_string() == "STORE_UNAVAILABLE", r);
    BOOST_TEST((took >= std::chrono::milliseconds(750) && took <= std::chrono::milliseconds(4500)),
               "answered after " << took.count() << " ms; MB_DB_TIMEOUT is 1500 ms");
    // The lock is still held: a statement still running would still be waiting on it.
    BOOST_TEST(active_backends(db.admin_url(), "modebridge-gateway") == 0);
    lock_tx.abort();
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

namespace {

// Runs `n` jobs at once on `pool`; how many failed with `unavailable`, and how many succeeded.
std::pair<int, int> run_jobs(common::db::pg_pool& pool, int n)
{
    int unavailable = 0;
    int ok = 0;
    net::io_context ioc;
    for (int i = 0; i < n; ++i)
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                try {
                    co_await pool.run([](pqxx::connection& c) {
                        pqxx::work tx(c);
                        tx.exec_prepared1("add", 1, 1);
                        tx.commit();
                    });
                    ++ok;
                } catch (const common::db::unavailable& e) {
                    BOOST_TEST(e.code() == "STORE_UNAVAILABLE");
                    ++unavailable;
                }
            },
            [](std::exception_ptr e) {
                if (e)
                    std::rethrow_exception(e);
            });
    // Far beyond the pool's deadlines: a job still running then is a hang.
    ioc.run_for(std::chrono::seconds(30));
    BOOST_TEST_REQUIRE(ioc.stopped(), "jobs were still waiting on a hung server after 30 s");
    return {unavailable, ok};
}

} // namespace

BOOST_AUTO_TEST_CASE(a_server_that_stops_answering_fails_jobs_instead_of_hanging_and_the_pool_recovers)
{
    test::scratch_database db;
    test::tcp_relay relay(db.url());
    auto o = options(relay.rewrite_url(db.url()), 2);
    o.statement_timeout = std::chrono::milliseconds(500);
    o.stall_grace = std::chrono::milliseconds(500);
    o.queue_timeout = std::chrono::milliseconds(1500);
    common::db::pg_pool pool(o);
    // Thawed before the pool goes, even when the test fails half-way, so that its workers can finish.
    struct thaw_on_exit
    {
        test::tcp_relay& relay;
        ~thaw_on_exit() { relay.thaw(); }
    } thaw_guard{relay};
    BOOST_TEST_REQUIRE(run_jobs(pool, 2).second == 2); // both connections open, through the relay

    relay.freeze();
    // Two jobs block on the open connections until they are cut; the rest wait for a connection, then
    // give up or find the pool failing fast. Every one ends as `unavailable`.
    auto [unavailable, ok] = run_jobs(pool, 6);
    BOOST_TEST(unavailable == 6);
    BOOST_TEST(ok == 0);

    relay.thaw();
    bool recovered = false;
    for (int i = 0; i < 50 && !recovered; ++i) {
        recovered = run_jobs(pool, 1).second == 1;
        if (!recovered)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(recovered);
    BOOST_TEST(run_jobs(pool, 4).second == 4);
}

BOOST_AUTO_TEST_SUITE_END()
