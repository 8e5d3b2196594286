#include "stats.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <fmt/format.h>

namespace bench::load {
namespace {

struct percentile_row
{
    const char* text_name;
    const char* json_name;
    double percent;
};

constexpr std::array<percentile_row, 4> percentiles{{
    {"p50", "p50", 50.0},
    {"p90", "p90", 90.0},
    {"p99", "p99", 99.0},
    {"p99.9", "p99_9", 99.9},
}};

double to_ms(std::uint64_t ns)
{
    return static_cast<double>(ns) / 1e6;
}

double requests_per_second(const run_result& r)
{
    return r.measured_seconds > 0
               ? static_cast<double>(r.totals.latency.count()) / r.measured_seconds
               : 0.0;
}

std::string mode_text(const options& o)
{
    return o.rate ? fmt::format("open loop at {:g} req/s", *o.rate) : std::string("closed loop");
}

} // namespace

void worker_stats::count_status(unsigned code) noexcept
{
    ++status[code >= 100 && code < status.size() ? code : 0];
}

void worker_stats::merge(const worker_stats& other)
{
    latency.merge(other.latency);
    for (std::size_t i = 0; i < status.size(); ++i)
        status[i] += other.status[i];
    errors_connect += other.errors_connect;
    errors_timeout += other.errors_timeout;
    errors_closed += other.errors_closed;
    errors_other += other.errors_other;
    reconnects += other.reconnects;
    unsent += other.unsent;
    last_answer = std::max(last_answer, other.last_answer);
}

std::uint64_t worker_stats::succeeded() const noexcept
{
    std::uint64_t n = 0;
    for (std::size_t code = 200; code < 400; ++code)
        n += status[code];
    return n;
}

std::string format_text(const options& o, const run_result& r)
{
    const auto& t = r.totals;
    const auto& h = t.latency;
    std::string out = fmt::format(
        "{}\n  {} {}\n  {} connections, {} thread{}, {}, warm-up {:.3f} s, measured {:.3f} s{}\n",
        o.label.empty() ? std::string("mb-load") : o.label,
        o.method,
        o.url,
        o.connections,
        o.threads,
        o.threads == 1 ? "" : "s",
        mode_text(o),
        std::chrono::duration<double>(o.warmup).count(),
        r.measured_seconds,
        r.interrupted ? " (stopped early: " + r.stop_reason + ")" : std::string()
    );
    out +=
        fmt::format("  requests   {} completed, {:.1f} req/s\n", h.count(), requests_per_second(r));
    out += "  latency ms";
    for (const auto& p : percentiles)
        out += fmt::format("  {} {:.3f}", p.text_name, to_ms(h.percentile(p.percent)));
    out += fmt::format(
        "  max {:.3f}  (min {:.3f}, mean {:.3f})\n", to_ms(h.max()), to_ms(h.min()), h.mean() / 1e6
    );
    out += "  status    ";
    bool any = false;
    for (std::size_t code = 0; code < t.status.size(); ++code) {
        if (t.status[code] == 0)
            continue;
        out += fmt::format(
            " {}: {}", code == 0 ? std::string("other") : std::to_string(code), t.status[code]
        );
        any = true;
    }
    out += any ? "\n" : " none\n";
    out += fmt::format(
        "  errors     connect {}, timeout {}, closed {}, other {}; reconnects {}\n",
        t.errors_connect,
        t.errors_timeout,
        t.errors_closed,
        t.errors_other,
        t.reconnects
    );
    if (o.rate)
        out +=
            fmt::format("  schedule   {} requests due before the end were never sent\n", t.unsent);
    return out;
}

std::string format_json(const options& o, const run_result& r)
{
    // Written by hand rather than with Boost.JSON, whose 1.81 serializer prints every double in
    // exponent form (5.94E-1); only strings go through it, for escaping.
    auto str = [](const std::string& s) {
        return boost::json::serialize(boost::json::string(s));
    };
    const auto& t = r.totals;
    const auto& h = t.latency;
    std::string latency;
    for (const auto& p : percentiles)
        latency += fmt::format("\"{}\":{:.4f},", p.json_name, to_ms(h.percentile(p.percent)));
    latency += fmt::format(
        "\"max\":{:.4f},\"min\":{:.4f},\"mean\":{:.4f}",
        to_ms(h.max()),
        to_ms(h.min()),
        h.mean() / 1e6
    );
    std::string status;
    for (std::size_t code = 0; code < t.status.size(); ++code) {
        if (t.status[code] == 0)
            continue;
        status += fmt::format(
            "{}\"{}\":{}",
            status.empty() ? "" : ",",
            code == 0 ? std::string("other") : std::to_string(code),
            t.status[code]
        );
    }
    std::string out = fmt::format(
        "{{\"label\":{},\"method\":{},\"url\":{},\"connections\":{},\"threads\":{},\"mode\":\"{}\","
        "\"target_rate\":{},\"warmup_s\":{:.3f},\"duration_s\":{:.3f},\"completed\":{},"
        "\"succeeded\":{},"
        "\"rps\":{:.1f},\"latency_ms\":{{{}}},\"status\":{{{}}},",
        str(o.label),
        str(o.method),
        str(o.url),
        o.connections,
        o.threads,
        o.rate ? "open" : "closed",
        o.rate ? fmt::format("{:g}", *o.rate) : std::string("null"),
        std::chrono::duration<double>(o.warmup).count(),
        r.measured_seconds,
        h.count(),
        t.succeeded(),
        requests_per_second(r),
        latency,
        status
    );
    out += fmt::format(
        "\"errors\":{{\"connect\":{},\"timeout\":{},\"closed\":{},\"other\":{}}},\"reconnects\":{},"
        "\"unsent\":{},\"interrupted\":{}",
        t.errors_connect,
        t.errors_timeout,
        t.errors_closed,
        t.errors_other,
        t.reconnects,
        t.unsent,
        r.interrupted
    );
    if (r.interrupted)
        out += ",\"stop_reason\":" + str(r.stop_reason);
    return out + "}\n";
}

} // namespace bench::load
