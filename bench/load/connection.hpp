#pragma once

// One keep-alive connection of the load, and its request loop.

#include "common/net/aliases.hpp"
#include "request_factory.hpp"
#include "run_plan.hpp"
#include "stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstddef>
#include <string>

namespace bench::load {

using namespace common::aliases;

/**
 * Sends requests on one HTTP/1.1 keep-alive connection until the run ends: closed loop (next
 * request when the answer arrived) or open loop (on a fixed per-connection schedule, latency
 * counted from the scheduled time). A broken connection is reopened; errors, reopenings and the
 * measured answers go to the worker's stats.
 *
 * Runs on its worker's io_context, which has exactly one thread, so no strand is needed.
 * Lifetime: the object lives in the frame of run(), so destroying the io_context cleans it up.
 * Thread-safety: distinct objects: safe. Shared objects: unsafe.
 */
class connection
{
public:
    struct context
    {
        const options* opts;
        run_plan* plan;
        request_factory* factory;
        worker_stats* stats;
    };

    /// The whole life of connection number `index` (0-based over all connections of the run).
    static net::awaitable<void> run(context ctx, std::size_t index);

private:
    connection(net::any_io_executor ex, context ctx, std::size_t index);

    net::awaitable<void> loop();
    /// Opens the connection if needed, retrying after failures; false when the run is over.
    net::awaitable<bool> ensure_connected();
    /// One request and its answer; `start` is when its latency starts counting.
    /** One request and its answer; the pause the answer asks for (zero unless honoured). */
    net::awaitable<std::chrono::seconds> exchange(clock_type::time_point start, bool measured);
    net::awaitable<void> sleep_until(clock_type::time_point t);
    void fail(const boost::system::error_code& ec, bool measured);
    void close() noexcept;
    bool over() const noexcept;
    /// The earlier of now + timeout and the end of the run.
    clock_type::time_point deadline() const noexcept;

    context ctx_;
    std::size_t index_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    net::steady_timer timer_;
    std::string scratch_;
    bool open_ = false;
    bool opened_before_ = false;
};

} // namespace bench::load
