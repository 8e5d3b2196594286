// mb-live: fan-out benchmark of a live event stream. Opens many WebSockets to one target, either the
// gateway's GET /v1/events (members' tokens) or the baseline relay of bench/live/relay (/?home=H, no
// token), then sends signed events into webhook-ingest at a fixed rate, each carrying its send time, and
// measures how long each event takes to reach every stream (send → webhook-ingest → PostgreSQL → Redis →
// target → client). Both targets are fed by the same ingest and measured by the same client.
// Prints figures; asserts nothing.

#include "histogram.hpp"
#include "options.hpp"
#include "probe.hpp"
#include "publisher.hpp"
#include "streams.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace mblive;

namespace {

json::object reasons_json(const std::map<std::string, std::size_t>& m)
{
    json::object out;
    for (const auto& [k, v] : m)
        out[k] = v;
    return out;
}

std::string reasons_text(const std::map<std::string, std::size_t>& m)
{
    std::string out;
    for (const auto& [k, v] : m)
        out += (out.empty() ? "" : ", ") + std::to_string(v) + " × " + k;
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    auto o = parse(argc, argv);
    std::vector<std::string> tokens;
    if (o.target == target_kind::gateway) {
        std::ifstream in(o.tokens_file);
        for (std::string line; std::getline(in, line);)
            if (!line.empty())
                tokens.push_back(line);
        if (tokens.empty())
            usage("no tokens in " + o.tokens_file);
    }

    shared_state s;
    s.run_id = static_cast<std::int64_t>(std::random_device{}() & 0x7fffffff) * 1000 + (now_ns() / 1000 % 1000);
    auto before = sample(o.watch_pid);
    // Descriptors kept back while the streams open, freed once they are: opening streams up to the
    // process's open-file limit must leave some for the senders' connections and the /proc reads.
    std::vector<int> reserved;
    for (int k = 0; k < 64; ++k)
        if (int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC); fd >= 0)
            reserved.push_back(fd);

    // Open the streams: `connect_concurrency` openers spread over the workers.
    std::vector<std::unique_ptr<worker>> workers;
    for (std::size_t k = 0; k < o.threads; ++k)
        workers.push_back(std::make_unique<worker>());
    for (std::size_t k = 0; k < std::min(o.connect_concurrency, o.streams); ++k) {
        auto& w = *workers[k % workers.size()];
        net::co_spawn(w.ioc, opener(o, tokens, s, w), net::detached);
    }
    for (auto& w : workers)
        w->thread = std::thread([&ioc = w->ioc] { ioc.run(); });
    auto open_started = clock_type::now();
    auto open_deadline = open_started + std::chrono::nanoseconds(static_cast<std::int64_t>(o.open_timeout_s * 1e9));
    while (s.ready.load() + s.failed.load() < o.streams && clock_type::now() < open_deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto open_s = seconds_since(open_started);
    std::size_t open = s.ready.load();
    for (int fd : reserved)
        ::close(fd);

    auto finish = [&] {
        s.stopping = true;
        for (auto& w : workers) {
            w->guard.reset();
            w->ioc.stop();
        }
        for (auto& w : workers)
            w->thread.join();
    };
    std::map<std::string, std::size_t> failures, closes;
    auto merge_reasons = [&] {
        for (auto& w : workers) {
            for (const auto& [k, v] : w->failures)
                failures[k] += v;
            for (const auto& [k, v] : w->closes)
                closes[k] += v;
        }
    };

    if (o.idle) {
        // Only the count of open streams, at once, so the caller can read the target's memory meanwhile.
        if (o.json_out)
            std::cout << json::serialize(json::object{{"streams_open", open}}) << std::endl;
        else
            std::cout << open << " streams open" << std::endl;
        std::this_thread::sleep_for(std::chrono::nanoseconds(static_cast<std::int64_t>(o.hold_s * 1e9)));
        finish();
        return 0;
    }

    // The target's memory with every stream open, after a moment to settle.
    proc_sample opened;
    if (o.watch_pid > 0) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        opened = sample(o.watch_pid);
    }

    // Send: the senders share one io_context on this thread.
    net::io_context send_ioc(1);
    std::vector<send_totals> sends(o.senders);
    auto cpu_before = sample(o.watch_pid);
    auto self_before = self_cpu_s();
    auto started = clock_type::now();
    auto started_ns = now_ns();
    auto until = started + std::chrono::nanoseconds(static_cast<std::int64_t>(o.duration_s * 1e9));
    if (!o.redis_url.empty())
        net::co_spawn(send_ioc, publisher(o, s, o.rate, until, sends[0]), [&t = sends[0]](std::exception_ptr e) {
            if (e)
                ++t.errors;
        });
    for (std::size_t k = 0; o.redis_url.empty() && k < o.senders; ++k)
        net::co_spawn(send_ioc,
                      sender(o, s, o.rate / static_cast<double>(o.senders), until, sends[k], static_cast<std::int64_t>(k),
                             static_cast<std::int64_t>(o.senders)),
                      [&t = sends[k]](std::exception_ptr e) {
                          if (e) // a sender that could not even start: counted, not hidden
                              ++t.errors;
                      });
    send_ioc.run();
    auto sent_for = seconds_since(started);
    send_totals t;
    for (const auto& x : sends) {
        t.sent += x.sent;
        t.errors += x.errors;
    }

    // Let the last events arrive, for at most --drain seconds.
    std::uint64_t expected = t.sent * open;
    auto drain_until = clock_type::now() + std::chrono::nanoseconds(static_cast<std::int64_t>(o.drain_s * 1e9));
    auto received_so_far = [&] {
        std::uint64_t n = 0;
        for (const auto& w : workers)
            n += w->received.load(std::memory_order_relaxed);
        return n;
    };
    while (received_so_far() < expected && clock_type::now() < drain_until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto run_s = seconds_since(started);
    auto cpu_after = sample(o.watch_pid);
    auto self_after = self_cpu_s();
    finish();
    merge_reasons();

    bench::load::histogram latency;
    for (const auto& w : workers)
        latency.merge(w->latency);
    std::uint64_t received = 0, other_frames = 0;
    std::int64_t last_delivery_ns = 0;
    for (const auto& w : workers) {
        received += w->received.load();
        other_frames += w->other_frames.load();
        last_delivery_ns = std::max(last_delivery_ns, w->last_delivery_ns.load());
    }
    std::uint64_t missing = expected > received ? expected - received : 0;
    // The sending window: the scheduled duration, or longer when the ingest answered late. Deliveries per
    // second held: over that window, or up to the last delivery if later (the drain counts when the
    // target fell behind, so a target that cannot keep up shows the rate it did deliver).
    double window = std::max(o.duration_s, sent_for);
    double delivery_window = static_cast<double>(last_delivery_ns - started_ns) / 1e9;
    double held = static_cast<double>(received) / std::max(window, delivery_window);
    double target_per_s = static_cast<double>(o.streams) * o.rate;
    auto ms = [&](double p) { return static_cast<double>(latency.percentile(p)) / 1e6; };
    double max_ms = static_cast<double>(latency.max()) / 1e6;
    double cpu_pct = cpu_before.cpu_s >= 0 && cpu_after.cpu_s >= 0 ? (cpu_after.cpu_s - cpu_before.cpu_s) / run_s * 100
                                                                   : -1;
    double self_pct = self_before >= 0 && self_after >= 0 ? (self_after - self_before) / run_s * 100 : -1;

    if (o.json_out) {
        json::object out{{"target", o.target == target_kind::gateway ? "gateway" : "relay"},
                         {"streams", o.streams},
                         {"streams_open", open},
                         {"failed_streams", s.failed.load()},
                         {"connect_retries", s.retries.load()},
                         {"open_s", open_s},
                         {"closed_early", s.closed_early.load()},
                         {"events_sent", t.sent},
                         {"send_errors", t.errors},
                         {"send_s", sent_for},
                         {"events_per_s", static_cast<double>(t.sent) / window},
                         {"target_deliveries_per_s", target_per_s},
                         {"deliveries_expected", expected},
                         {"deliveries", received},
                         {"deliveries_missing", missing},
                         {"deliveries_per_s", held},
                         {"other_frames", other_frames},
                         {"latency_ms", {{"p50", ms(50)}, {"p90", ms(90)}, {"p99", ms(99)}, {"max", max_ms}}},
                         {"client_cpu_percent", self_pct},
                         {"failures", reasons_json(failures)},
                         {"closes", reasons_json(closes)}};
        if (o.watch_pid > 0) {
            out["rss_before_kb"] = before.rss_kb;
            out["rss_open_kb"] = opened.rss_kb;
            out["rss_end_kb"] = cpu_after.rss_kb;
            out["cpu_percent"] = cpu_pct;
        }
        std::cout << json::serialize(out) << "\n";
    } else {
        std::printf("%zu of %zu streams open in %.1f s (%zu failed, %llu retries, %zu closed early)\n", open, o.streams,
                    open_s, s.failed.load(), static_cast<unsigned long long>(s.retries.load()), s.closed_early.load());
        if (!failures.empty())
            std::printf("  could not open: %s\n", reasons_text(failures).c_str());
        if (!closes.empty())
            std::printf("  closed early: %s\n", reasons_text(closes).c_str());
        std::printf("%llu events sent in %.1f s (%.0f/s, %llu errors)\n", static_cast<unsigned long long>(t.sent),
                    sent_for, static_cast<double>(t.sent) / window, static_cast<unsigned long long>(t.errors));
        std::printf("deliveries: %llu of %llu expected, %llu missing; %.0f/s held (target %.0f/s)\n",
                    static_cast<unsigned long long>(received), static_cast<unsigned long long>(expected),
                    static_cast<unsigned long long>(missing), held, target_per_s);
        std::printf("send → client latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", ms(50), ms(90),
                    ms(99), max_ms);
        if (o.watch_pid > 0)
            std::printf("target: RSS %ld kB before, %ld kB with the streams open, %ld kB at the end; CPU %.0f %%\n",
                        before.rss_kb, opened.rss_kb, cpu_after.rss_kb, cpu_pct);
        std::printf("mb-live's own CPU: %.0f %%\n", self_pct);
    }
    return 0;
}
