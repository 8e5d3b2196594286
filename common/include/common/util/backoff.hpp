#pragma once

#include <chrono>
#include <cstdint>

namespace common {

/** How much of a backoff delay is left to chance. */
enum class jitter
{
    none,  ///< exactly the doubled delay
    equal, ///< half fixed, half random: uniform in [d/2, d]
    full,  ///< uniform in [0, d]
};

/**
 * Exponential backoff: `first` doubled once per failure, capped at `cap`, then jittered so that many
 * clients failing together spread out. A small value type: `delay(failures)` for callers that count
 * failures themselves (a row's attempt counter), `next()` / `reset()` for callers that let it count.
 *
 * Thread-safety: const members may be called from any thread (each thread has its own random source);
 * `next` and `reset` change the object and need the owner's synchronisation (usually its strand).
 */
class backoff
{
public:
    constexpr backoff(std::chrono::milliseconds first, std::chrono::milliseconds cap, enum jitter j) noexcept
        : first_(first)
        , cap_(cap)
        , jitter_(j)
    {
    }

    /** The delay before the retry that follows `failures` failures, without jitter. */
    std::chrono::milliseconds ceiling(unsigned failures) const noexcept;
    /** The jittered delay, drawing on `random` (any value; deterministic for tests). */
    std::chrono::milliseconds delay(unsigned failures, std::uint64_t random) const noexcept;
    /** The jittered delay, drawing on this thread's random source. */
    std::chrono::milliseconds delay(unsigned failures) const;

    /** The delay after one more failure (counts it). */
    std::chrono::milliseconds next() { return delay(failures_++); }
    /** After a success: the next failure waits `first` again. */
    void reset() noexcept { failures_ = 0; }
    unsigned failures() const noexcept { return failures_; }

private:
    std::chrono::milliseconds first_;
    std::chrono::milliseconds cap_;
    enum jitter jitter_;
    unsigned failures_ = 0;
};

/** A random duration in [lo, hi) from this thread's random source: spreads work many callers start at
    once. Callable from any thread. */
std::chrono::milliseconds random_between(std::chrono::milliseconds lo, std::chrono::milliseconds hi);

} // namespace common
