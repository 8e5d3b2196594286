#include "load_runner.hpp"

#include "common/log.hpp"
#include "connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>

namespace bench::load {
namespace {

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_sigint(int)
{
    interrupted = 1;
}

constexpr auto poll_interval = std::chrono::milliseconds(20);

/** A worker thread: its io_context, its connections and its stats. */
struct worker
{
    // Declared first, destroyed last: a stopped io_context destroys the connections it still
    // holds, and those point at these stats.
    worker_stats stats;
    std::atomic<bool> done{false};
    net::io_context ioc{1};
    std::thread thread;
};

void log_connection_error(std::exception_ptr e)
{
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        common::log::error("load.connection", {{"error", ex.what()}});
    }
}

} // namespace

load_runner::load_runner(const options& o, request_factory& factory)
    : opts_(o)
    , factory_(factory)
{
    net::io_context ioc;
    net::ip::tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    auto results = resolver.resolve(o.host, o.port, ec);
    if (ec || results.empty())
        throw std::runtime_error("cannot resolve " + o.host + ":" + o.port + ": " + ec.message());
    for (const auto& entry : results)
        plan_.endpoints.push_back(entry.endpoint());
    plan_.budget = o.requests;
}

run_result load_runner::run()
{
    using std::chrono::duration_cast;
    plan_.start = clock_type::now();
    plan_.warm_end = plan_.start + duration_cast<clock_type::duration>(opts_.warmup);
    plan_.end = opts_.requests
                    ? clock_type::time_point::max()
                    : plan_.warm_end + duration_cast<clock_type::duration>(opts_.duration);

    std::vector<std::unique_ptr<worker>> workers;
    for (std::size_t t = 0; t < opts_.threads; ++t)
        workers.push_back(std::make_unique<worker>());
    for (std::size_t i = 0; i < opts_.connections; ++i) {
        auto& w = *workers[i % workers.size()];
        connection::context ctx{&opts_, &plan_, &factory_, &w.stats};
        net::co_spawn(w.ioc, connection::run(ctx, i), log_connection_error);
    }
    interrupted = 0;
    auto previous = std::signal(SIGINT, on_sigint);
    for (auto& w : workers)
        w->thread = std::thread([&w = *w] {
            w.ioc.run();
            w.done = true;
        });

    run_result result;
    // The stall limit only matters with --requests: a timed run ends on its own.
    const auto stall_limit =
        std::max<std::chrono::nanoseconds>(2 * opts_.timeout, std::chrono::seconds(5));
    auto last_progress = clock_type::now();
    std::uint64_t last_answers = 0;
    for (;;) {
        std::this_thread::sleep_for(poll_interval);
        if (std::all_of(workers.begin(), workers.end(), [](const auto& w) {
                return w->done.load();
            }))
            break;
        auto now = clock_type::now();
        if (auto answers = plan_.answers.load(); answers != last_answers) {
            last_answers = answers;
            last_progress = now;
        }
        if (interrupted) {
            result.stop_reason = "interrupted";
        } else if (opts_.requests && now - last_progress > stall_limit) {
            result.stop_reason =
                "no answer for " +
                std::to_string(duration_cast<std::chrono::seconds>(now - last_progress).count()) +
                " s";
        } else {
            continue;
        }
        result.interrupted = true;
        for (auto& w : workers)
            w->ioc.stop();
        break;
    }
    auto finished = clock_type::now();
    for (auto& w : workers)
        w->thread.join();
    std::signal(SIGINT, previous);

    for (auto& w : workers)
        result.totals.merge(w->stats);
    // A timed run is measured over its nominal window (or until stopped); a counted run until
    // its last measured answer.
    auto measured_end = opts_.requests
                            ? (result.totals.latency.count() ? result.totals.last_answer : finished)
                            : std::min(finished, plan_.end);
    if (result.interrupted)
        measured_end = std::min(finished, plan_.end);
    result.measured_seconds =
        std::max(0.0, std::chrono::duration<double>(measured_end - plan_.warm_end).count());
    return result;
}

} // namespace bench::load
