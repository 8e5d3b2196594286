// redis::connection when Redis is absent, restarts, freezes or is stopped under it: what fails, and how it recovers.

#include "support/redis_harness.hpp"

using namespace redis_harness;

BOOST_AUTO_TEST_SUITE(redis)

BOOST_AUTO_TEST_CASE(no_server_fails_fast_as_unavailable)
{
    const auto port = test::free_port(); // nothing listens there
    run_async(
        [&](net::io_context& ioc) -> net::awaitable<void> {
            credis::config cfg;
            cfg.port = port;
            cfg.command_timeout = 60s; // waiting for it would blow the run_for limit below
            credis::connection conn(ioc.get_executor(), cfg);

            auto before_start = co_await failure_of(conn.command("PING"));
            BOOST_TEST(is(before_start, credis::error_kind::unavailable), kind_of(before_start));

            conn.start();
            BOOST_REQUIRE(co_await eventually([&] { return !conn.last_error().empty(); }));
            BOOST_TEST(!conn.connected());
            for (int i = 0; i < 20; ++i) {
                auto e = co_await failure_of(conn.command("GET", "k"));
                BOOST_REQUIRE_MESSAGE(is(e, credis::error_kind::unavailable), kind_of(e));
                BOOST_TEST(has(e->what(), "refused"), e->what());
            }
        },
        10s
    );
}

net::awaitable<void> restart(net::io_context& ioc, redis_server& srv)
{
    credis::connection conn(ioc.get_executor(), srv.config());
    co_await start_and_wait(conn);
    co_await conn.command("SET", "k", "1");

    srv.kill();
    auto e = co_await failure_of(conn.command("GET", "k"));
    BOOST_TEST(is(e, credis::error_kind::unavailable), kind_of(e));
    BOOST_REQUIRE(co_await eventually([&] { return !conn.connected(); }));
    auto down = co_await failure_of(conn.command("GET", "k"));
    BOOST_TEST(is(down, credis::error_kind::unavailable), kind_of(down));

    srv.start(); // same port
    BOOST_REQUIRE(co_await eventually([&] { return conn.connected(); }, 15s));
    BOOST_TEST((co_await conn.command("PING")).str == "PONG");
    co_await conn.command("SET", "k", "2");
    BOOST_TEST((co_await conn.command("GET", "k")).str == "2");
}

BOOST_AUTO_TEST_CASE(recovers_by_itself_after_redis_restarts)
{
    with_redis(restart);
}

net::awaitable<void> paused_server(net::io_context& ioc, redis_server& srv)
{
    auto cfg = srv.config();
    cfg.command_timeout = 300ms;
    cfg.connect_timeout = 300ms;
    credis::connection conn(ioc.get_executor(), cfg);
    co_await start_and_wait(conn);

    srv.signal(SIGSTOP);
    auto e = co_await failure_of(conn.command("PING"));
    BOOST_REQUIRE_MESSAGE(is(e, credis::error_kind::timeout), kind_of(e));
    BOOST_TEST(has(e->what(), "no reply within 300 ms"), e->what());

    // Nothing came back at all, so the connection was dropped as unresponsive: later commands
    // fail at once instead of each waiting out its timeout, and reconnects time out too.
    BOOST_TEST(!conn.connected());
    auto next = co_await failure_of(conn.command("PING"));
    BOOST_TEST(is(next, credis::error_kind::unavailable), kind_of(next));
    co_await sleep_for(800ms); // a few reconnect attempts against the paused server
    BOOST_TEST(!conn.connected());

    srv.signal(SIGCONT);
    BOOST_REQUIRE(co_await eventually([&] { return conn.connected(); }, 15s));
    BOOST_TEST((co_await conn.command("PING")).str == "PONG");
    BOOST_TEST((co_await conn.command("INCR", "after")).integer == 1);
}

BOOST_AUTO_TEST_CASE(command_timeout_on_a_paused_server_then_recovery)
{
    with_redis(paused_server);
}

net::awaitable<void> stop_in_flight(net::io_context& ioc, redis_server& srv)
{
    auto cfg = srv.config();
    cfg.command_timeout = 60s;
    auto conn = std::make_unique<credis::connection>(ioc.get_executor(), cfg);
    co_await start_and_wait(*conn);

    srv.signal(SIGSTOP); // keeps the commands in flight
    std::optional<credis::error> first, second;
    std::atomic<int> finished{0};
    auto pending = [&](std::optional<credis::error>& out) -> net::awaitable<void> {
        out = co_await failure_of(conn->command("PING"));
        ++finished;
    };
    net::co_spawn(ioc, pending(first), [](std::exception_ptr) {});
    co_await sleep_for(100ms);
    conn->stop();
    BOOST_REQUIRE(co_await eventually([&] { return finished.load() == 1; }));
    BOOST_TEST(is(first, credis::error_kind::unavailable), kind_of(first));
    auto after = co_await failure_of(conn->command("PING"));
    BOOST_TEST((after && has(after->what(), "stopped")), kind_of(after));

    // Destruction with a command in flight: it fails, nothing touches the freed object.
    conn = std::make_unique<credis::connection>(ioc.get_executor(), cfg);
    srv.signal(SIGCONT);
    co_await start_and_wait(*conn);
    srv.signal(SIGSTOP);
    net::co_spawn(ioc, pending(second), [](std::exception_ptr) {});
    co_await sleep_for(100ms);
    conn.reset();
    BOOST_REQUIRE(co_await eventually([&] { return finished.load() == 2; }));
    BOOST_TEST(is(second, credis::error_kind::unavailable), kind_of(second));
    srv.signal(SIGCONT);
}

BOOST_AUTO_TEST_CASE(stop_and_destruction_fail_in_flight_commands)
{
    with_redis(stop_in_flight);
}

BOOST_AUTO_TEST_SUITE_END()
