// mb-live's streams and senders: opening the WebSockets over the workers, reading their events (latency
// of each delivery), and sending signed events into webhook-ingest at a fixed rate.
#pragma once

#include "histogram.hpp"
#include "options.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace mblive {

namespace net = boost::asio;
using clock_type = std::chrono::steady_clock;

// Wall-clock nanoseconds: the send time travels inside the event, so both ends must use the same clock.
std::int64_t now_ns();

// Seconds elapsed on the steady clock since `t`.
double seconds_since(clock_type::time_point t);

// State shared by every thread: counters only (atomics); the rest belongs to one worker.
struct shared_state
{
    std::atomic<std::size_t> next_stream{0};
    std::atomic<std::size_t> ready{0};
    std::atomic<std::size_t> failed{0};
    std::atomic<std::size_t> closed_early{0};
    std::atomic<std::uint64_t> retries{0};
    std::atomic<bool> stopping{false};
    std::int64_t run_id = 0;
};

// One single-threaded io_context with its share of the streams. Its histogram and failure counts are
// touched only by its own thread, and read after that thread has joined.
struct worker
{
    net::io_context ioc{1};
    net::executor_work_guard<net::io_context::executor_type> guard{ioc.get_executor()};
    std::thread thread;
    bench::load::histogram latency;
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> other_frames{0};
    std::atomic<std::int64_t> last_delivery_ns{0};
    std::map<std::string, std::size_t> failures; // why a stream could not open (last attempt)
    std::map<std::string, std::size_t> closes;   // why an open stream ended before the run did
};

// Opens streams one after another (taking the next index from the shared counter), each with a few
// attempts; `--connect-concurrency` of these run at once across the workers.
net::awaitable<void> opener(const options& o, const std::vector<std::string>& tokens, shared_state& s, worker& w);

struct send_totals
{
    std::uint64_t sent = 0;
    std::uint64_t errors = 0;
};

// Sends events on one keep-alive connection at `rate` per second until `until`, reconnecting after an error.
net::awaitable<void> sender(const options& o, const shared_state& s, double rate, clock_type::time_point until,
                            send_totals& t, std::int64_t first, std::int64_t step);

} // namespace mblive
