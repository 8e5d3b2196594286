#pragma once

// The timeline and shared budget of one run, read by every connection.

#include "stats.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

namespace bench::load {

/**
 * When the run started, when measuring starts (end of warm-up) and when it ends, plus the
 * request budget of --requests and a progress counter for the stall watchdog.
 *
 * Thread-safety: shared objects: safe. The time points and endpoints are set before any worker
 * starts and never change; the counters are atomic.
 */
struct run_plan
{
    clock_type::time_point start;
    clock_type::time_point warm_end;
    clock_type::time_point end; // time_point::max() with --requests
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;
    std::optional<std::uint64_t> budget;   // --requests
    std::atomic<std::uint64_t> issued{0};  // measured requests sent (only counted with a budget)
    std::atomic<std::uint64_t> answers{0}; // every answer, warm-up included

    /// Claims one measured request; false once the budget is spent.
    bool take_ticket() noexcept
    {
        return !budget || issued.fetch_add(1, std::memory_order_relaxed) < *budget;
    }
};

} // namespace bench::load
