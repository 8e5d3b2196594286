#include "support/coro.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

namespace test::coro {

using namespace std::chrono_literals;

void run_async(const std::function<net::awaitable<void>(net::io_context&)>& body, std::chrono::seconds limit,
               int threads)
{
    net::io_context ioc;
    std::atomic<bool> finished{false};
    std::exception_ptr failure;
    net::co_spawn(ioc, body(ioc), [&](std::exception_ptr ep) {
        failure = ep;
        finished = true;
    });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i)
        pool.emplace_back([&] { ioc.run_for(limit); });
    ioc.run_for(limit);
    for (auto& t : pool)
        t.join();
    BOOST_REQUIRE_MESSAGE(finished.load(), "the test coroutine did not finish within " << limit.count() << " s");
    if (failure)
        std::rethrow_exception(failure);
}

net::awaitable<void> sleep_for(std::chrono::milliseconds d)
{
    net::steady_timer t(co_await net::this_coro::executor, d);
    co_await t.async_wait(net::use_awaitable);
}

net::awaitable<bool> eventually(std::function<bool()> pred, std::chrono::milliseconds limit)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            co_return false;
        co_await sleep_for(20ms);
    }
    co_return true;
}

} // namespace test::coro
