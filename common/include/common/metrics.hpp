#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace common::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

/** A monotonically increasing count. Lock-free; use from any thread. */
class counter
{
public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/** A value that goes up and down. Lock-free; use from any thread. */
class gauge
{
public:
    void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(std::int64_t d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
    std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

/** Observations in cumulative buckets (seconds, by convention). Lock-free; use from any thread. */
class histogram
{
public:
    explicit histogram(std::vector<double> bounds);
    void observe(double v) noexcept;
    const std::vector<double>& bounds() const noexcept { return bounds_; }
    std::uint64_t bucket_count(std::size_t i) const noexcept; // non-cumulative; i == bounds().size() is +Inf
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    double sum() const noexcept;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_micros_{0};
};

/** Default latency buckets, 0.5 ms to 10 s. */
std::vector<double> latency_buckets();

/**
 * The metrics of one process, rendered in the Prometheus text format. `counter_for` and friends
 * return a reference that stays valid as long as the registry: look it up once and keep it on hot
 * paths. Thread-safety: every member may be used from any thread.
 */
class registry
{
public:
    registry();
    ~registry();
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    counter& counter_for(const std::string& name, const std::string& help, const labels& l = {});
    gauge& gauge_for(const std::string& name, const std::string& help, const labels& l = {});
    histogram& histogram_for(const std::string& name, const std::string& help, const labels& l = {},
                             std::vector<double> bounds = latency_buckets());
    /** A gauge read at scrape time (pool sizes, queue depths). */
    void add_callback_gauge(const std::string& name, const std::string& help, std::function<double()> read);

    std::string render() const;

private:
    struct family;
    family& family_for(const std::string& name, const std::string& help, int type);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<family>> families_;
};

} // namespace common::metrics
