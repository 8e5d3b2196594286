#include "common/redis/connection.hpp"
#include "common/redis/subscriber.hpp"
#include "support/coro.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

// GCC 12 at -O2 reports a false -Wmismatched-new-delete at the end of some Asio coroutines (the
// frame comes from Asio's recycling allocator and goes back to it; GCC sees only part of it after
// inlining).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using namespace common::aliases;
using namespace std::chrono_literals;
namespace credis = common::redis; // `redis` is the test suite's namespace

namespace {

using namespace test::coro;
using test::redis_server;

/** The credis::error `op` threw, or nullopt when it succeeded. */
template <typename T>
net::awaitable<std::optional<credis::error>> failure_of(net::awaitable<T> op)
{
    try {
        co_await std::move(op);
    } catch (const credis::error& e) {
        co_return e;
    }
    co_return std::nullopt;
}

net::awaitable<long long> numsub(credis::connection& conn, const std::string& channel)
{
    auto r = co_await conn.command("PUBSUB", "NUMSUB", channel);
    co_return r.elements.at(1).as_integer();
}

net::awaitable<bool>
wait_subscribed(credis::connection& conn, const std::string& channel, long long n = 1)
{
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (co_await numsub(conn, channel) == n)
            co_return true;
        co_await sleep_for(20ms);
    }
    co_return false;
}

std::string kind_of(const std::optional<credis::error>& e)
{
    return e ? std::string(credis::to_string(e->kind())) + ": " + e->what() : "no error";
}

bool is(const std::optional<credis::error>& e, credis::error_kind k)
{
    return e && e->kind() == k;
}

bool has(const std::string& text, const std::string& needle)
{
    return text.find(needle) != std::string::npos;
}

/** start() and wait until connected. */
template <typename Client>
net::awaitable<void> start_and_wait(Client& client)
{
    client.start();
    BOOST_REQUIRE(co_await eventually([&] { return client.connected(); }));
}

using body_fn = net::awaitable<void> (*)(net::io_context&, redis_server&);

/** Runs `body` against a fresh redis-server. */
void with_redis(body_fn body, std::vector<std::string> extra = {})
{
    redis_server srv(std::move(extra));
    run_async([&](net::io_context& ioc) { return body(ioc, srv); });
}

} // namespace

BOOST_AUTO_TEST_SUITE(redis)

net::awaitable<void> round_trip(net::io_context& ioc, redis_server& srv)
{
    auto cfg = srv.config();
    cfg.host = "localhost"; // exercises the asynchronous resolve
    credis::connection conn(ioc.get_executor(), cfg);
    co_await start_and_wait(conn);

    BOOST_TEST((co_await conn.command("SET", "k", "v")).str == "OK");
    auto got = co_await conn.command("GET", "k");
    BOOST_TEST(got.is_string());
    BOOST_TEST(got.str == "v");
    BOOST_TEST((co_await conn.command("GET", "missing")).is_nil());
    BOOST_TEST((co_await conn.command("INCR", "n")).as_integer() == 1);
    BOOST_TEST((co_await conn.command("INCR", "n")).as_integer() == 2);
    BOOST_TEST((co_await conn.command("EXPIRE", "n", 60)).as_integer() == 1);

    const std::string binary("a\0b\r\nc", 6);
    co_await conn.command("SET", "bin", binary);
    BOOST_TEST((co_await conn.command("GET", "bin")).str == binary);

    std::vector<std::vector<std::string>> batch;
    batch.push_back({"SET", "p", "1"});
    batch.push_back({"INCR", "p"});
    batch.push_back({"GET", "p"});
    batch.push_back({"EXPIRE", "p", "60"});
    auto replies = co_await conn.pipeline(std::move(batch));
    BOOST_REQUIRE_EQUAL(replies.size(), 4U);
    BOOST_TEST(replies[0].str == "OK");
    BOOST_TEST(replies[1].integer == 2);
    BOOST_TEST(replies[2].str == "2");
    BOOST_TEST(replies[3].integer == 1);

    auto lua =
        co_await conn.command("EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "ctr", 5);
    BOOST_TEST(lua.as_integer() == 5);

    // SELECT on connect: db 2 is separate from db 0.
    auto cfg2 = srv.config();
    cfg2.db = 2;
    credis::connection db2(ioc.get_executor(), cfg2);
    co_await start_and_wait(db2);
    BOOST_TEST((co_await db2.command("GET", "k")).is_nil());
    co_await db2.command("SET", "k", "in-db-2");
    BOOST_TEST((co_await conn.command("GET", "k")).str == "v");
}

BOOST_AUTO_TEST_CASE(round_trip_set_get_incr_pipeline_eval_select)
{
    with_redis(round_trip);
}

BOOST_AUTO_TEST_CASE(thousand_concurrent_commands_in_order_per_caller)
{
    redis_server srv;
    constexpr std::size_t callers = 8;
    constexpr std::size_t per_caller = 125;
    std::array<std::array<long long, per_caller>, callers> results{};
    std::array<std::array<bool, per_caller>, callers> on_strand{};
    std::atomic<std::size_t> done{0};
    std::atomic<int> failures{0};

    auto body = [&](net::io_context& ioc) -> net::awaitable<void> {
        credis::connection conn(ioc.get_executor(), srv.config());
        co_await start_and_wait(conn);
        for (std::size_t c = 0; c < callers; ++c) {
            auto strand = net::make_strand(ioc.get_executor());
            for (std::size_t i = 0; i < per_caller; ++i) {
                // Spawned in order on the caller's strand, so the INCRs are issued in order: the
                // i-th must see i+1 if replies are matched and ordered correctly.
                auto one = [&conn, &results, &on_strand, strand, c, i]() -> net::awaitable<void> {
                    auto r = co_await conn.command("INCR", "caller:" + std::to_string(c));
                    results[c][i] = r.integer;
                    on_strand[c][i] = strand.running_in_this_thread();
                };
                net::co_spawn(strand, one, [&](std::exception_ptr ep) {
                    failures += ep ? 1 : 0;
                    ++done;
                });
            }
        }
        BOOST_REQUIRE(co_await eventually([&] { return done == callers * per_caller; }, 20s));
    };
    run_async(body, 30s, 4);

    BOOST_TEST(failures.load() == 0);
    for (std::size_t c = 0; c < callers; ++c)
        for (std::size_t i = 0; i < per_caller; ++i) {
            BOOST_TEST_CONTEXT("caller " << c << " command " << i)
            {
                BOOST_TEST(results[c][i] == static_cast<long long>(i + 1));
                BOOST_TEST(on_strand[c][i]);
            }
        }
}

net::awaitable<void> error_reply(net::io_context& ioc, redis_server& srv)
{
    credis::connection conn(ioc.get_executor(), srv.config());
    co_await start_and_wait(conn);
    co_await conn.command("SET", "s", "abc");

    auto e = co_await failure_of(conn.command("INCR", "s"));
    BOOST_REQUIRE(e);
    BOOST_TEST(is(e, credis::error_kind::server), kind_of(e));
    BOOST_TEST(has(e->what(), "not an integer"), e->what());

    // pipeline() hands error replies back as replies.
    std::vector<std::vector<std::string>> batch;
    batch.push_back({"INCR", "s"});
    batch.push_back({"GET", "s"});
    auto replies = co_await conn.pipeline(std::move(batch));
    BOOST_TEST(replies.at(0).is_error());
    BOOST_TEST(replies.at(1).str == "abc");

    BOOST_TEST((co_await conn.command("PING")).str == "PONG"); // still usable
    BOOST_TEST(conn.connected());

    std::vector<std::string> empty;
    BOOST_CHECK_THROW(co_await conn.command(empty), std::invalid_argument);
    BOOST_CHECK_THROW(co_await conn.command("SUBSCRIBE", "x"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(error_reply_is_a_server_error_not_a_transport_failure)
{
    with_redis(error_reply);
}

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

const std::string test_password = "correct-horse-battery";

net::awaitable<void> auth(net::io_context& ioc, redis_server& srv)
{
    auto cfg = credis::parse_url(
        "redis://:" + test_password + "@127.0.0.1:" + std::to_string(srv.port()) + "/1"
    );
    credis::connection good(ioc.get_executor(), cfg);
    co_await start_and_wait(good);
    co_await good.command("SET", "k", "v");
    BOOST_TEST((co_await good.command("GET", "k")).str == "v");

    auto acl = credis::parse_url(
        "redis://default:" + test_password + "@127.0.0.1:" + std::to_string(srv.port())
    );
    credis::connection with_user(ioc.get_executor(), acl);
    co_await start_and_wait(with_user);

    auto bad_cfg = srv.config();
    bad_cfg.password = "wrong-password-value";
    credis::connection bad(ioc.get_executor(), bad_cfg);
    bad.start();
    BOOST_REQUIRE(co_await eventually([&] { return !bad.last_error().empty(); }));
    BOOST_TEST(!bad.connected());
    BOOST_TEST(has(bad.last_error(), "AUTH failed: WRONGPASS"), bad.last_error());
    auto e = co_await failure_of(bad.command("GET", "k"));
    BOOST_REQUIRE_MESSAGE(is(e, credis::error_kind::unavailable), kind_of(e));
    BOOST_TEST(has(e->what(), "WRONGPASS"), e->what());
    BOOST_TEST(!has(e->what(), bad_cfg.password), e->what());

    credis::connection none(ioc.get_executor(), srv.config());
    none.start();
    BOOST_REQUIRE(co_await eventually([&] { return !none.last_error().empty(); }));
    BOOST_TEST(has(none.last_error(), "NOAUTH"), none.last_error());
}

BOOST_AUTO_TEST_CASE(password_auth_and_wrong_password)
{
    with_redis(auth, {"--requirepass", test_password});
}

net::awaitable<void> pubsub(net::io_context& ioc, redis_server& srv)
{
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), srv.config());
    sub.subscribe("a"); // before start
    sub.start();
    sub.subscribe("b"); // after start
    BOOST_REQUIRE(co_await wait_subscribed(pub, "a"));
    BOOST_REQUIRE(co_await wait_subscribed(pub, "b"));
    BOOST_TEST(sub.connected());

    const std::string binary("x\0y\r\n", 5);
    BOOST_TEST((co_await pub.command("PUBLISH", "a", "hello")).integer == 1);
    co_await pub.command("PUBLISH", "c", "not subscribed");
    co_await pub.command("PUBLISH", "b", binary);

    auto m1 = co_await sub.receive(); // the first connect brings no `reconnected` marker
    BOOST_TEST((m1.kind == credis::message_kind::message));
    BOOST_TEST(m1.channel == "a");
    BOOST_TEST(m1.payload == "hello");
    auto m2 = co_await sub.receive();
    BOOST_TEST(m2.channel == "b");
    BOOST_TEST(m2.payload == binary);

    sub.unsubscribe("a");
    BOOST_REQUIRE(co_await wait_subscribed(pub, "a", 0));
    co_await pub.command("PUBLISH", "a", "gone");
    co_await pub.command("PUBLISH", "b", "still here");
    auto m3 = co_await sub.receive();
    BOOST_TEST(m3.channel == "b");
    BOOST_TEST(m3.payload == "still here");

    sub.stop();
    auto stopped = co_await failure_of(sub.receive());
    BOOST_TEST(is(stopped, credis::error_kind::unavailable), kind_of(stopped));
}

BOOST_AUTO_TEST_CASE(subscriber_receives_published_messages)
{
    with_redis(pubsub);
}

net::awaitable<void> pubsub_restart(net::io_context& ioc, redis_server& srv)
{
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), srv.config());
    sub.subscribe("revocations");
    sub.subscribe("events");
    sub.start();
    BOOST_REQUIRE(co_await wait_subscribed(pub, "events"));

    srv.kill();
    srv.start();
    auto marker = co_await sub.receive();
    BOOST_TEST((marker.kind == credis::message_kind::reconnected));
    // The marker is queued only once the re-subscription is confirmed: a consumer catching up now
    // cannot miss anything published from here on.
    BOOST_REQUIRE(co_await eventually([&] { return pub.connected(); }, 15s));
    BOOST_TEST(co_await numsub(pub, "events") == 1);
    BOOST_TEST(co_await numsub(pub, "revocations") == 1);

    co_await pub.command("PUBLISH", "events", "after restart");
    auto m = co_await sub.receive();
    BOOST_TEST((m.kind == credis::message_kind::message));
    BOOST_TEST(m.channel == "events");
    BOOST_TEST(m.payload == "after restart");
}

BOOST_AUTO_TEST_CASE(subscriber_marks_reconnect_and_resubscribes)
{
    with_redis(pubsub_restart);
}

net::awaitable<void> pubsub_overflow(net::io_context& ioc, redis_server& srv)
{
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), srv.config(), 2);
    sub.subscribe("ch");
    sub.start();
    BOOST_REQUIRE(co_await wait_subscribed(pub, "ch"));

    for (int i = 1; i <= 5; ++i)
        co_await pub.command("PUBLISH", "ch", std::to_string(i));
    BOOST_REQUIRE(co_await eventually([&] { return sub.dropped() == 3; }));

    BOOST_TEST(((co_await sub.receive()).kind == credis::message_kind::overflowed));
    BOOST_TEST((co_await sub.receive()).payload == "1");
    BOOST_TEST((co_await sub.receive()).payload == "2");
    co_await pub.command("PUBLISH", "ch", "6");
    auto m = co_await sub.receive();
    BOOST_TEST((m.kind == credis::message_kind::message));
    BOOST_TEST(m.payload == "6");
}

BOOST_AUTO_TEST_CASE(subscriber_overflow_is_visible)
{
    with_redis(pubsub_overflow);
}

net::awaitable<void> pubsub_frozen(net::io_context& ioc, redis_server& srv)
{
    auto cfg = srv.config();
    cfg.command_timeout = 400ms;
    cfg.connect_timeout = 400ms;
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), cfg);
    sub.subscribe("revocations");
    sub.start();
    BOOST_REQUIRE(co_await wait_subscribed(pub, "revocations"));
    co_await sleep_for(1s); // several heartbeats answered: a live server is left alone
    BOOST_TEST(sub.connected());

    // The TCP connection stays up and nothing answers: only the heartbeat can tell.
    srv.signal(SIGSTOP);
    BOOST_TEST(co_await eventually([&] { return !sub.connected(); }, 10s));
    srv.signal(SIGCONT);

    auto marker = co_await sub.receive();
    BOOST_TEST((marker.kind == credis::message_kind::reconnected));
    BOOST_TEST(sub.connected());
    BOOST_REQUIRE(co_await eventually([&] { return pub.connected(); }, 15s));
    co_await pub.command("PUBLISH", "revocations", "after the freeze");
    auto m = co_await sub.receive();
    BOOST_TEST((m.kind == credis::message_kind::message));
    BOOST_TEST(m.payload == "after the freeze");
}

BOOST_AUTO_TEST_CASE(subscriber_notices_a_frozen_server_and_comes_back)
{
    with_redis(pubsub_frozen);
}

net::awaitable<void> pubsub_sync(net::io_context& ioc, redis_server& srv)
{
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), srv.config());
    sub.start();
    BOOST_REQUIRE(co_await eventually([&] { return sub.connected(); }, 10s));
    // Once sync() says so, the channels subscribed before it are in effect: a message published right
    // after is received, every time.
    for (int i = 0; i < 20; ++i) {
        auto ch = "sync-" + std::to_string(i);
        sub.subscribe(ch);
        BOOST_TEST_REQUIRE(co_await sub.sync());
        co_await pub.command("PUBLISH", ch, "m" + std::to_string(i));
        auto m = co_await sub.receive();
        BOOST_TEST(m.channel == ch);
        BOOST_TEST(m.payload == "m" + std::to_string(i));
    }
    srv.kill();
    BOOST_REQUIRE(co_await eventually([&] { return !sub.connected(); }, 10s));
    BOOST_TEST(!(co_await sub.sync()));
}

BOOST_AUTO_TEST_CASE(subscriber_sync_waits_for_the_subscriptions_before_it)
{
    with_redis(pubsub_sync);
}

BOOST_AUTO_TEST_SUITE_END()
