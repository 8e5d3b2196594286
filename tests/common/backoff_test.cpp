#include "common/util/backoff.hpp"
#include "common/util/background_loop.hpp"

#include "support/coro.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>

using namespace std::chrono;
using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(doubles_from_first_up_to_cap)
{
    common::backoff b(milliseconds(100), milliseconds(5000), common::jitter::none);
    BOOST_TEST(b.ceiling(0).count() == 100);
    BOOST_TEST(b.ceiling(1).count() == 200);
    BOOST_TEST(b.ceiling(5).count() == 3200);
    BOOST_TEST(b.ceiling(6).count() == 5000);
    BOOST_TEST(b.ceiling(1000).count() == 5000); // no overflow however many failures
    BOOST_TEST(b.delay(3, 12345).count() == 800);
}

BOOST_AUTO_TEST_CASE(equal_jitter_stays_in_upper_half)
{
    common::backoff b(milliseconds(1000), milliseconds(60'000), common::jitter::equal);
    BOOST_TEST(b.delay(2, 0).count() == 2000);    // lowest: half of 4000
    BOOST_TEST(b.delay(2, 2000).count() == 4000); // highest: the whole of it
    BOOST_TEST(b.delay(2, 2001).count() == 2000); // wraps
    for (int i = 0; i < 1000; ++i) {
        auto d = b.delay(3).count();
        BOOST_TEST((d >= 4000 && d <= 8000));
    }
    common::backoff odd(milliseconds(1001), milliseconds(60'000), common::jitter::equal);
    BOOST_TEST(odd.delay(0, 0).count() == 500);
    BOOST_TEST(odd.delay(0, 501).count() == 1001);
}

BOOST_AUTO_TEST_CASE(full_jitter_spans_zero_to_ceiling)
{
    common::backoff b(milliseconds(100), milliseconds(1000), common::jitter::full);
    BOOST_TEST(b.delay(10, 0).count() == 0);
    BOOST_TEST(b.delay(10, 1000).count() == 1000);
    BOOST_TEST(b.delay(10, std::numeric_limits<std::uint64_t>::max()).count() <= 1000);
}

BOOST_AUTO_TEST_CASE(next_counts_failures_and_reset_starts_over)
{
    common::backoff b(milliseconds(250), milliseconds(10'000), common::jitter::none);
    BOOST_TEST(b.next().count() == 250);
    BOOST_TEST(b.next().count() == 500);
    BOOST_TEST(b.next().count() == 1000);
    BOOST_TEST(b.failures() == 3U);
    b.reset();
    BOOST_TEST(b.next().count() == 250);
}

BOOST_AUTO_TEST_CASE(random_between_stays_in_range)
{
    for (int i = 0; i < 1000; ++i) {
        auto d = common::random_between(milliseconds(1000), milliseconds(3000)).count();
        BOOST_TEST((d >= 1000 && d < 3000));
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(background_loop)

namespace {
// Long enough that a test passing on it would be a sleep, not the loop's doing.
constexpr milliseconds long_idle{60'000};
} // namespace

BOOST_AUTO_TEST_CASE(runs_again_at_once_while_work_is_waiting_and_stops)
{
    test::coro::run_async([](net::io_context& ioc) -> net::awaitable<void> {
        auto strand = net::make_strand(ioc);
        common::background_loop loop(strand, "test.loop", long_idle,
                                     common::backoff(long_idle, long_idle, common::jitter::none));
        int passes = 0;
        bool ended = false;
        net::co_spawn(strand, loop.run([&]() -> net::awaitable<bool> { co_return ++passes < 5; }),
                      [&](std::exception_ptr e) {
            BOOST_TEST(!e);
            ended = true;
        });
        BOOST_TEST(co_await test::coro::eventually([&] { return passes == 5; }));
        loop.stop();
        BOOST_TEST(co_await test::coro::eventually([&] { return ended; }));
        BOOST_TEST(passes == 5);
    });
}

BOOST_AUTO_TEST_CASE(wake_cuts_the_idle_sleep_short)
{
    test::coro::run_async([](net::io_context& ioc) -> net::awaitable<void> {
        auto strand = net::make_strand(ioc);
        common::background_loop loop(strand, "test.loop", common::background_loop::until_woken,
                                     common::backoff(long_idle, long_idle, common::jitter::none));
        int passes = 0;
        bool ended = false;
        net::co_spawn(strand, loop.run([&]() -> net::awaitable<bool> { ++passes; co_return false; }),
                      [&](std::exception_ptr e) {
            BOOST_TEST(!e);
            ended = true;
        });
        BOOST_TEST(co_await test::coro::eventually([&] { return passes == 1; }));
        loop.wake();
        BOOST_TEST(co_await test::coro::eventually([&] { return passes == 2; }));
        loop.stop();
        BOOST_TEST(co_await test::coro::eventually([&] { return ended; }));
    });
}

BOOST_AUTO_TEST_CASE(a_failing_pass_sleeps_the_error_backoff_not_the_idle_time)
{
    test::coro::run_async([](net::io_context& ioc) -> net::awaitable<void> {
        auto strand = net::make_strand(ioc);
        common::background_loop loop(strand, "test.loop", long_idle,
                                     common::backoff(milliseconds(10), long_idle, common::jitter::none));
        int passes = 0;
        bool ended = false;
        // Fails three times (retried 10, 20, 40 ms later), then finds nothing to do and idles.
        auto pass = [&]() -> net::awaitable<bool> {
            if (++passes <= 3)
                throw std::runtime_error("down");
            co_return false;
        };
        net::co_spawn(strand, loop.run(pass), [&](std::exception_ptr e) {
            BOOST_TEST(!e);
            ended = true;
        });
        BOOST_TEST(co_await test::coro::eventually([&] { return passes == 4; }, seconds(5)));
        loop.stop(); // ends the idle sleep at once
        BOOST_TEST(co_await test::coro::eventually([&] { return ended; }, seconds(5)));
        BOOST_TEST(passes == 4);
    });
}

BOOST_AUTO_TEST_SUITE_END()
