#include "common/crypto/crypto.hpp"
#include "common/ratelimit/limiter.hpp"
#include "common/redis/connection.hpp"
#include "support/coro.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/stack.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

// GCC 12 at -O2 reports a false -Wmismatched-new-delete at the end of some Asio coroutines (the
// frame comes from Asio's recycling allocator and goes back to it).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using namespace common::aliases;
using namespace std::chrono_literals;
namespace rl = common::ratelimit;
namespace credis = common::redis;

namespace {

using namespace test::coro;

net::awaitable<void> connect(credis::connection& conn)
{
    conn.start();
    BOOST_REQUIRE(co_await eventually([&] { return conn.connected(); }));
}

credis::config stack_redis()
{
    return credis::parse_url(test::redis_url());
}

/** Unique per call: Redis is shared with suites running at the same time. */
std::string unique(const std::string& stem)
{
    return stem + "_" + common::crypto::random_token(6);
}

/** Every key under `prefix` (SCAN, not KEYS: the cursor loop is what production code would do). */
net::awaitable<std::vector<std::string>>
keys_under(credis::connection& conn, const std::string& prefix)
{
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
        auto rep = co_await conn.command("SCAN", cursor, "MATCH", prefix + "*", "COUNT", 1000);
        cursor = rep.elements.at(0).as_string();
        for (const auto& k : rep.elements.at(1).elements)
            keys.push_back(k.as_string());
    } while (cursor != "0");
    co_return keys;
}

/** `calls=` of one command in INFO commandstats (0 when it was never called). */
net::awaitable<long long> calls_of(credis::connection& conn, const std::string& command)
{
    auto info = (co_await conn.command("INFO", "commandstats")).as_string();
    const auto tag = "cmdstat_" + command + ":calls=";
    auto pos = info.find(tag);
    if (pos == std::string::npos)
        co_return 0;
    co_return std::stoll(info.substr(pos + tag.size()));
}

} // namespace

BOOST_AUTO_TEST_SUITE(limiter_redis)

BOOST_AUTO_TEST_CASE(two_instances_share_counts_and_deny_with_retry_after)
{
    run_async([](net::io_context& ioc) -> net::awaitable<void> {
        credis::connection conn_a(ioc.get_executor(), stack_redis());
        credis::connection conn_b(ioc.get_executor(), stack_redis());
        co_await connect(conn_a);
        co_await connect(conn_b);
        const auto prefix = unique("mbtest:rl") + ":";
        rl::limiter a(conn_a, prefix);
        rl::limiter b(conn_b, prefix);
        const rl::rule r{unique("login_fail_account"), 5, 60s};
        const std::string who = "carol@example.com";

        for (std::uint32_t i = 1; i <= 5; ++i) {
            auto d = co_await (i % 2 == 1 ? a : b).hit(r, who);
            BOOST_TEST_CONTEXT("hit " << i)
            {
                BOOST_TEST(d.allowed);
                BOOST_TEST(d.count == i); // the count includes the other instance's events
            }
        }
        auto denied = co_await b.hit(r, who);
        BOOST_TEST(!denied.allowed);
        BOOST_TEST(denied.count == 5U);
        // The first event leaves the window 60 s after it happened, a moment ago.
        BOOST_TEST(denied.retry_after.count() >= 30);
        BOOST_TEST(denied.retry_after.count() <= 60);
        BOOST_TEST(!(co_await a.check(r, who)).allowed);
        BOOST_TEST((co_await a.check(r, "someone-else@example.com")).allowed);

        // Denied hits are not counted: the set still holds exactly `limit` events.
        for (int i = 0; i < 20; ++i)
            co_await a.hit(r, who);
        BOOST_TEST((co_await conn_a.command("ZCARD", a.storage_key(r, who))).as_integer() == 5);
        BOOST_TEST(!a.using_fallback());
        BOOST_TEST(!b.using_fallback());
    });
}

BOOST_AUTO_TEST_CASE(release_hands_back_one_event_on_any_instance)
{
    run_async([](net::io_context& ioc) -> net::awaitable<void> {
        credis::connection conn_a(ioc.get_executor(), stack_redis());
        credis::connection conn_b(ioc.get_executor(), stack_redis());
        co_await connect(conn_a);
        co_await connect(conn_b);
        const auto prefix = unique("mbtest:rl") + ":";
        rl::limiter a(conn_a, prefix);
        rl::limiter b(conn_b, prefix);
        const rl::rule r{unique("login_fail_ip"), 2, 60s};
        auto first = co_await a.hit(r, "192.0.2.1");
        auto second = co_await b.hit(r, "192.0.2.1");
        BOOST_TEST_REQUIRE(first.allowed);
        BOOST_TEST_REQUIRE(second.allowed);
        BOOST_TEST(!(co_await a.hit(r, "192.0.2.1")).allowed);
        // The event counted through b is handed back through a: the count is shared, so is the ticket.
        co_await a.release(r, "192.0.2.1", second.ticket);
        BOOST_TEST((co_await conn_a.command("ZCARD", a.storage_key(r, "192.0.2.1"))).as_integer() == 1);
        BOOST_TEST((co_await b.hit(r, "192.0.2.1")).allowed);
        co_await b.release(r, "192.0.2.1", "no-such-ticket");
        BOOST_TEST((co_await conn_a.command("ZCARD", a.storage_key(r, "192.0.2.1"))).as_integer() == 2);
    });
}

BOOST_AUTO_TEST_CASE(check_does_not_count_and_reset_forgets)
{
    run_async([](net::io_context& ioc) -> net::awaitable<void> {
        credis::connection conn(ioc.get_executor(), stack_redis());
        co_await connect(conn);
        rl::limiter lim(conn, unique("mbtest:rl") + ":");
        const rl::rule r{unique("forgot_password"), 2, 300s};

        for (int i = 0; i < 10; ++i) {
            auto c = co_await lim.check(r, "dave@example.com");
            BOOST_TEST_REQUIRE(c.allowed);
            BOOST_TEST_REQUIRE(c.count == 0U);
        }
        BOOST_TEST((co_await lim.hit(r, "dave@example.com")).allowed);
        BOOST_TEST((co_await lim.check(r, "dave@example.com")).count == 1U);
        BOOST_TEST((co_await lim.hit(r, "dave@example.com")).allowed);
        BOOST_TEST(!(co_await lim.hit(r, "dave@example.com")).allowed);

        co_await lim.reset(r, "dave@example.com");
        BOOST_TEST(
            (co_await conn.command("EXISTS", lim.storage_key(r, "dave@example.com")))
                .as_integer() == 0
        );
        auto d = co_await lim.hit(r, "dave@example.com");
        BOOST_TEST(d.allowed);
        BOOST_TEST(d.count == 1U);
    });
}

BOOST_AUTO_TEST_CASE(keys_expire_and_the_window_reopens)
{
    run_async([](net::io_context& ioc) -> net::awaitable<void> {
        credis::connection conn(ioc.get_executor(), stack_redis());
        co_await connect(conn);
        rl::limiter lim(conn, unique("mbtest:rl") + ":");
        const rl::rule r{unique("resend_verification"), 2, 2s};
        const auto key = lim.storage_key(r, "erin@example.com");

        BOOST_TEST((co_await lim.hit(r, "erin@example.com")).allowed);
        BOOST_TEST((co_await lim.hit(r, "erin@example.com")).allowed);
        auto denied = co_await lim.hit(r, "erin@example.com");
        BOOST_TEST(!denied.allowed);
        BOOST_TEST(denied.retry_after.count() >= 1);
        BOOST_TEST(denied.retry_after.count() <= 2);
        const auto ttl = (co_await conn.command("PTTL", key)).as_integer();
        BOOST_TEST(ttl > 0);
        BOOST_TEST(ttl <= 2000);

        // Waiting what retry_after said is enough to be let through again.
        co_await sleep_for(denied.retry_after + 100ms);
        auto after = co_await lim.hit(r, "erin@example.com");
        BOOST_TEST(after.allowed);

        // With no further events the key goes away by itself (polled: EXISTS needs a co_await).
        bool gone = false;
        for (int i = 0; i < 500 && !gone; ++i) {
            gone = (co_await conn.command("EXISTS", key)).as_integer() == 0;
            if (!gone)
                co_await sleep_for(20ms);
        }
        BOOST_TEST(gone);
    });
}

BOOST_AUTO_TEST_CASE(redis_holds_no_plain_addresses)
{
    run_async([](net::io_context& ioc) -> net::awaitable<void> {
        credis::connection conn(ioc.get_executor(), stack_redis());
        co_await connect(conn);
        const auto prefix = unique("mbtest:rl") + ":";
        rl::limiter lim(conn, prefix);
        const auto local = unique("frank");
        const auto email = local + "@example.org";
        const rl::rule by_account{unique("login_fail_account"), 10, 900s};
        const rl::rule resend{unique("resend_verification"), 1, 60s};
        co_await lim.hit(by_account, email);
        co_await lim.hit(resend, email);
        co_await lim.hit(by_account, "203.0.113.7");

        auto keys = co_await keys_under(conn, prefix);
        BOOST_TEST(keys.size() == 3U);
        for (const auto& k : keys) {
            BOOST_TEST_CONTEXT("key " << k)
            {
                BOOST_TEST(k.find('@') == std::string::npos);
                BOOST_TEST(k.find(local) == std::string::npos);
                BOOST_TEST(k.find("example") == std::string::npos);
                BOOST_TEST(k.find("203.0.113") == std::string::npos);
                auto members = co_await conn.command("ZRANGE", k, 0, -1);
                for (const auto& m : members.elements)
                    BOOST_TEST(m.as_string().find('@') == std::string::npos);
            }
        }
        BOOST_TEST(
            (co_await conn.command("EXISTS", lim.storage_key(resend, email))).as_integer() == 1
        );
    });
}

BOOST_AUTO_TEST_CASE(two_hundred_concurrent_hits_admit_exactly_the_limit)
{
    std::atomic<int> allowed{0};
    std::atomic<int> denied{0};
    std::atomic<int> failed{0};
    run_async(
        [&](net::io_context& ioc) -> net::awaitable<void> {
            // Two instances, each with its own connection, hit from many strands at once.
            credis::connection conn_a(ioc.get_executor(), stack_redis());
            credis::connection conn_b(ioc.get_executor(), stack_redis());
            co_await connect(conn_a);
            co_await connect(conn_b);
            const auto prefix = unique("mbtest:rl") + ":";
            rl::limiter a(conn_a, prefix);
            rl::limiter b(conn_b, prefix);
            const rl::rule r{unique("register_ip"), 50, 600s};

            constexpr int total = 200;
            for (int i = 0; i < total; ++i) {
                auto& lim = i % 2 == 0 ? a : b;
                auto one = [&lim, &r, &allowed, &denied]() -> net::awaitable<void> {
                    auto d = co_await lim.hit(r, "198.51.100.9");
                    ++(d.allowed ? allowed : denied);
                };
                net::co_spawn(net::make_strand(ioc), one, [&failed](std::exception_ptr ep) {
                    if (ep)
                        ++failed;
                });
            }
            BOOST_TEST(co_await eventually([&] { return allowed + denied + failed == total; }, 30s)
            );
            BOOST_TEST(failed.load() == 0);
            BOOST_TEST(allowed.load() == 50);
            BOOST_TEST(denied.load() == 150);
            BOOST_TEST(
                (co_await conn_a.command("ZCARD", a.storage_key(r, "198.51.100.9"))).as_integer() ==
                50
            );
            BOOST_TEST(!a.using_fallback());
        },
        60s,
        4
    );
}

BOOST_AUTO_TEST_CASE(redis_down_falls_back_and_still_limits)
{
    run_async([](net::io_context& ioc) -> net::awaitable<void> {
        credis::config cfg;
        cfg.port = test::free_port(); // nothing listens there
        cfg.connect_timeout = 500ms;
        credis::connection conn(ioc.get_executor(), cfg);
        conn.start();
        rl::limiter lim(conn);
        const rl::rule r{"login_fail_ip", 3, 60s};
        for (std::uint32_t i = 1; i <= 3; ++i) {
            auto d = co_await lim.hit(r, "192.0.2.1");
            BOOST_TEST(d.allowed);
            BOOST_TEST(d.count == i);
        }
        auto d = co_await lim.hit(r, "192.0.2.1");
        BOOST_TEST(!d.allowed);
        BOOST_TEST(d.retry_after.count() >= 1);
        BOOST_TEST(d.retry_after.count() <= 60);
        BOOST_TEST(lim.using_fallback());
        co_await lim.reset(r, "192.0.2.1");
        BOOST_TEST((co_await lim.hit(r, "192.0.2.1")).allowed);
        conn.stop();
    });
}

BOOST_AUTO_TEST_CASE(outage_then_recovery_and_script_cache_loss)
{
    test::redis_server srv;
    run_async([&srv](net::io_context& ioc) -> net::awaitable<void> {
        auto cfg = srv.config();
        cfg.connect_timeout = 500ms;
        cfg.command_timeout = 1000ms;
        credis::connection conn(ioc.get_executor(), cfg);
        co_await connect(conn);
        rl::limiter lim(conn);
        const rl::rule r{"outage", 2, 600s};

        // Normal operation: SCRIPT LOAD once, then EVALSHA; never a full EVAL.
        BOOST_TEST((co_await lim.hit(r, "k")).allowed);
        BOOST_TEST((co_await lim.hit(r, "other")).allowed);
        BOOST_TEST(co_await calls_of(conn, "evalsha") == 2);
        BOOST_TEST(co_await calls_of(conn, "eval") == 0);

        srv.kill();
        BOOST_TEST(co_await eventually([&] { return !conn.connected(); }));
        // The fallback starts empty and limits on its own.
        BOOST_TEST((co_await lim.hit(r, "k")).allowed);
        BOOST_TEST((co_await lim.hit(r, "k")).allowed);
        BOOST_TEST(!(co_await lim.hit(r, "k")).allowed);
        BOOST_TEST(lim.using_fallback());

        srv.start(); // a new process: no data, empty script cache
        BOOST_TEST(co_await eventually([&] { return conn.connected(); }, 20s));
        auto back = co_await lim.hit(r, "k");
        BOOST_TEST(back.allowed); // Redis lost its data; counting resumes there
        BOOST_TEST(back.count == 1U);
        BOOST_TEST(!lim.using_fallback());
        // The cached SHA-1 was unknown to the new server: NOSCRIPT, then one EVAL reloaded it.
        BOOST_TEST(co_await calls_of(conn, "eval") == 1);
        BOOST_TEST((co_await lim.hit(r, "k")).allowed);
        BOOST_TEST(co_await calls_of(conn, "eval") == 1);
        BOOST_TEST((co_await conn.command("ZCARD", lim.storage_key(r, "k"))).as_integer() == 2);
        conn.stop();
    });
}

BOOST_AUTO_TEST_SUITE_END()
