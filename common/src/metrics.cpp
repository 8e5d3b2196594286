#include "common/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace common::metrics {

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds))
    , buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1])
{
    if (!std::is_sorted(bounds_.begin(), bounds_.end()))
        throw std::invalid_argument("histogram bounds must be sorted");
    for (std::size_t i = 0; i <= bounds_.size(); ++i)
        buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept
{
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    auto i = static_cast<std::size_t>(it - bounds_.begin());
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    // The sum is kept in microseconds so it can be an atomic integer.
    double micros = std::max(0.0, v) * 1e6;
    sum_micros_.fetch_add(static_cast<std::uint64_t>(std::llround(micros)), std::memory_order_relaxed);
}

std::uint64_t histogram::bucket_count(std::size_t i) const noexcept
{
    return buckets_[i].load(std::memory_order_relaxed);
}

double histogram::sum() const noexcept
{
    return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> latency_buckets()
{
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

namespace {

enum kind { k_counter = 0, k_gauge = 1, k_histogram = 2, k_callback = 3 };

std::string escape(const std::string& v)
{
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"')
            out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::string render_labels(const labels& l, const std::string& extra = {})
{
    if (l.empty() && extra.empty())
        return {};
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : l) {
        if (!first)
            out += ',';
        first = false;
        out += fmt::format("{}=\"{}\"", k, escape(v));
    }
    if (!extra.empty()) {
        if (!first)
            out += ',';
        out += extra;
    }
    out += '}';
    return out;
}

std::string format_double(double v)
{
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
}

} // namespace

struct registry::family
{
    std::string help;
    int type = 0;
    std::map<labels, std::unique_ptr<counter>> counters;
    std::map<labels, std::unique_ptr<gauge>> gauges;
    std::map<labels, std::unique_ptr<histogram>> histograms;
    std::function<double()> callback;
};

registry::registry() = default;
registry::~registry() = default;

registry::family& registry::family_for(const std::string& name, const std::string& help, int type)
{
    auto& f = families_[name];
    if (!f) {
        f = std::make_unique<family>();
        f->help = help;
        f->type = type;
    } else if (f->type != type) {
        throw std::logic_error("metric " + name + " registered with two types");
    }
    return *f;
}

counter& registry::counter_for(const std::string& name, const std::string& help, const labels& l)
{
    std::lock_guard lock(mutex_);
    auto& slot = family_for(name, help, k_counter).counters[l];
    if (!slot)
        slot = std::make_unique<counter>();
    return *slot;
}

gauge& registry::gauge_for(const std::string& name, const std::string& help, const labels& l)
{
    std::lock_guard lock(mutex_);
    auto& slot = family_for(name, help, k_gauge).gauges[l];
    if (!slot)
        slot = std::make_unique<gauge>();
    return *slot;
}

histogram& registry::histogram_for(const std::string& name, const std::string& help, const labels& l,
                                   std::vector<double> bounds)
{
    std::lock_guard lock(mutex_);
    auto& f = family_for(name, help, k_histogram);
    auto it = f.histograms.find(l);
    if (it != f.histograms.end())
        return *it->second;
    // Built before it enters the map: bad bounds throw here and leave no empty slot for render().
    auto h = std::make_unique<histogram>(std::move(bounds));
    return *f.histograms.emplace(l, std::move(h)).first->second;
}

void registry::add_callback_gauge(const std::string& name, const std::string& help, std::function<double()> read)
{
    std::lock_guard lock(mutex_);
    family_for(name, help, k_callback).callback = std::move(read);
}

std::string registry::render() const
{
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, f] : families_) {
        static constexpr const char* type_names[] = {"counter", "gauge", "histogram", "gauge"};
        std::string help;
        for (char c : f->help) {
            if (c == '\\')
                help += "\\\\";
            else if (c == '\n')
                help += "\\n";
            else
                help.push_back(c);
        }
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type_names[f->type]);
        for (const auto& [l, c] : f->counters)
            out += fmt::format("{}{} {}\n", name, render_labels(l), c->value());
        for (const auto& [l, g] : f->gauges)
            out += fmt::format("{}{} {}\n", name, render_labels(l), g->value());
        if (f->callback)
            out += fmt::format("{} {}\n", name, format_double(f->callback()));
        for (const auto& [l, h] : f->histograms) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i <= h->bounds().size(); ++i) {
                cumulative += h->bucket_count(i);
                double le = i < h->bounds().size() ? h->bounds()[i] : INFINITY;
                out += fmt::format("{}_bucket{} {}\n", name,
                                   render_labels(l, fmt::format("le=\"{}\"", format_double(le))), cumulative);
            }
            out += fmt::format("{}_sum{} {}\n", name, render_labels(l), format_double(h->sum()));
            out += fmt::format("{}_count{} {}\n", name, render_labels(l), h->count());
        }
    }
    return out;
}

} // namespace common::metrics
