#pragma once

// What the redis test files share: running a test body against a fresh redis-server, and reading what
// a command or a subscription ended in.

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

namespace redis_harness {

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

inline net::awaitable<long long> numsub(credis::connection& conn, const std::string& channel)
{
    auto r = co_await conn.command("PUBSUB", "NUMSUB", channel);
    co_return r.elements.at(1).as_integer();
}

inline net::awaitable<bool>
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

inline std::string kind_of(const std::optional<credis::error>& e)
{
    return e ? std::string(credis::to_string(e->kind())) + ": " + e->what() : "no error";
}

inline bool is(const std::optional<credis::error>& e, credis::error_kind k)
{
    return e && e->kind() == k;
}

inline bool has(const std::string& text, const std::string& needle)
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
inline void with_redis(body_fn body, std::vector<std::string> extra = {})
{
    redis_server srv(std::move(extra));
    run_async([&](net::io_context& ioc) { return body(ioc, srv); });
}

} // namespace redis_harness
