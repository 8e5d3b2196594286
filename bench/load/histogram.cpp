#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bench::load {
namespace {

// Values below `linear_limit` get a bucket each; above it every power of two [2^k, 2^(k+1)) is
// split into `half` buckets of width 2^(k-9).
constexpr unsigned linear_bits = 10;
constexpr std::uint64_t linear_limit = std::uint64_t{1} << linear_bits; // 1024
constexpr std::uint64_t half = linear_limit / 2;                        // 512
constexpr unsigned top_bit = 40;                                        // 2^40 ns ≈ 18 min
constexpr std::size_t bucket_count = linear_limit + (top_bit - linear_bits + 1) * half;

} // namespace

histogram::histogram()
    : counts_(bucket_count, 0)
{}

std::size_t histogram::index_of(std::uint64_t v) noexcept
{
    if (v < linear_limit)
        return static_cast<std::size_t>(v);
    auto msb = static_cast<unsigned>(std::bit_width(v) - 1); // >= linear_bits
    if (msb > top_bit)
        return bucket_count - 1;
    unsigned shift = msb - (linear_bits - 1);
    std::uint64_t sub = v >> shift; // in [half, 2*half)
    return static_cast<std::size_t>(linear_limit + (msb - linear_bits) * half + (sub - half));
}

std::uint64_t histogram::highest_in(std::size_t index) noexcept
{
    if (index < linear_limit)
        return index;
    std::size_t rel = index - linear_limit;
    unsigned msb = static_cast<unsigned>(rel / half) + linear_bits;
    std::uint64_t sub = rel % half + half;
    unsigned shift = msb - (linear_bits - 1);
    return ((sub + 1) << shift) - 1;
}

void histogram::record(std::uint64_t value_ns) noexcept
{
    ++counts_[index_of(value_ns)];
    ++count_;
    min_ = std::min(min_, value_ns);
    max_ = std::max(max_, value_ns);
    sum_ += static_cast<long double>(value_ns);
}

void histogram::merge(const histogram& other)
{
    for (std::size_t i = 0; i < counts_.size(); ++i)
        counts_[i] += other.counts_[i];
    count_ += other.count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
}

double histogram::mean() const noexcept
{
    return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

std::uint64_t histogram::percentile(double percent) const noexcept
{
    if (count_ == 0)
        return 0;
    double wanted =
        std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count_));
    auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank)
            return std::clamp(highest_in(i), min(), max_);
    }
    return max_;
}

} // namespace bench::load
