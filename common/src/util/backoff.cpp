#include "common/util/backoff.hpp"

#include <algorithm>
#include <random>

namespace common {

namespace {
std::mt19937_64& thread_random()
{
    thread_local std::mt19937_64 gen{std::random_device{}()};
    return gen;
}
} // namespace

std::chrono::milliseconds backoff::ceiling(unsigned failures) const noexcept
{
    const long long cap = cap_.count();
    long long d = first_.count();
    for (unsigned i = 0; i < failures && d < cap; ++i)
        d *= 2;
    return std::chrono::milliseconds(std::min(d, cap));
}

std::chrono::milliseconds backoff::delay(unsigned failures, std::uint64_t random) const noexcept
{
    const long long d = ceiling(failures).count();
    if (d <= 0 || jitter_ == jitter::none)
        return std::chrono::milliseconds(d);
    const long long lo = jitter_ == jitter::equal ? d / 2 : 0;
    const auto span = static_cast<std::uint64_t>(d - lo) + 1;
    return std::chrono::milliseconds(lo + static_cast<long long>(random % span));
}

std::chrono::milliseconds backoff::delay(unsigned failures) const
{
    return delay(failures, thread_random()());
}

std::chrono::milliseconds random_between(std::chrono::milliseconds lo, std::chrono::milliseconds hi)
{
    std::uniform_int_distribution<std::int64_t> d(lo.count(), hi.count() - 1);
    return std::chrono::milliseconds(d(thread_random()));
}

} // namespace common
