#pragma once

// What one worker thread measured, and the report made of all of them.

#include "histogram.hpp"
#include "options.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

namespace bench::load {

using clock_type = std::chrono::steady_clock;

/**
 * Counters of one worker thread: latencies and status codes of the measured answers, errors and
 * reopened connections. Only the worker's own thread writes it; the runner reads it after joining.
 *
 * Thread-safety: distinct objects: safe. Shared objects: unsafe.
 */
struct worker_stats
{
    histogram latency;                       // measured answers, any status
    std::array<std::uint64_t, 600> status{}; // by status code; codes outside 100..599 count at [0]
    std::uint64_t errors_connect = 0;        // connect failed or timed out
    std::uint64_t errors_timeout = 0;        // no complete answer within --timeout
    std::uint64_t errors_closed = 0;         // peer closed or reset the connection mid-request
    std::uint64_t errors_other = 0;          // unparsable answer, body too large, anything else
    std::uint64_t reconnects = 0;            // connections opened after a connection's first
    std::uint64_t unsent = 0;             // open loop: slots before the end never sent (overload)
    clock_type::time_point last_answer{}; // of a measured answer

    void count_status(unsigned code) noexcept;
    void merge(const worker_stats& other);
    std::uint64_t succeeded() const noexcept; // 2xx and 3xx answers
};

/** The figures of a finished run, ready to print. */
struct run_result
{
    worker_stats totals;
    double measured_seconds = 0; // from the end of the warm-up to the last measured answer / end
    bool interrupted = false;    // SIGINT, or given up because nothing answered any more
    std::string stop_reason;
};

/// Human-readable report (several lines, ends with a newline).
std::string format_text(const options& o, const run_result& r);
/// One JSON object (one line, ends with a newline). Never contains the signing key.
std::string format_json(const options& o, const run_result& r);

} // namespace bench::load
