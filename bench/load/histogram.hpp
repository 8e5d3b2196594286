#pragma once

// Latency histogram with log-linear buckets, in the manner of HdrHistogram.

#include <cstdint>
#include <vector>

namespace bench::load {

/**
 * Counts values (nanoseconds) in log-linear buckets: exact below 1024, then 512 linear buckets per
 * power of two, so any reported percentile is within 0.2 % of a recorded value. Values beyond
 * about 18 minutes land in the last bucket; min, max and the mean are kept exactly.
 *
 * Not tied to an executor. Thread-safety: distinct objects: safe. Shared objects: unsafe (each
 * worker thread records into its own histogram; they are merged after the threads have joined).
 */
class histogram
{
public:
    histogram();

    void record(std::uint64_t value_ns) noexcept;
    void merge(const histogram& other);

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
    std::uint64_t max() const noexcept { return max_; }
    double mean() const noexcept;

    /// Smallest recorded value v such that at least `percent` % of values are ≤ v (within the
    /// bucket resolution; never above max()). 0 when empty.
    std::uint64_t percentile(double percent) const noexcept;

private:
    static std::size_t index_of(std::uint64_t v) noexcept;
    static std::uint64_t highest_in(std::size_t index) noexcept;

    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
    long double sum_ = 0;
};

} // namespace bench::load
