#pragma once

// Running coroutine test bodies, bounded in time, and waiting inside them.

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace test::coro {

using namespace common::aliases;

/**
 * Runs `body(ioc)` on a fresh io_context (run by `threads` threads) for at most `limit`, then
 * rethrows what it threw. A body that does not finish in time fails the test instead of hanging it.
 * Call from the test's thread.
 */
void run_async(const std::function<net::awaitable<void>(net::io_context&)>& body,
               std::chrono::seconds limit = std::chrono::seconds(60), int threads = 1);

/** Suspends the calling coroutine for `d` (a timer on its executor). */
net::awaitable<void> sleep_for(std::chrono::milliseconds d);

/** Polls `pred` every 20 ms from the calling coroutine; false if it did not hold within `limit`. */
net::awaitable<bool> eventually(std::function<bool()> pred,
                                std::chrono::milliseconds limit = std::chrono::seconds(15));

} // namespace test::coro
