#pragma once

// Runs the load: worker threads, their connections, the timeline, and the final figures.

#include "options.hpp"
#include "request_factory.hpp"
#include "run_plan.hpp"
#include "stats.hpp"

namespace bench::load {

/**
 * Spreads the connections over --threads worker threads, each with its own single-threaded
 * io_context and stats, lets them run to the end of the run (or the --requests budget), then
 * merges what they measured. SIGINT stops a run early and still reports it; with --requests, a
 * run in which nothing answers for twice the timeout (at least 5 s) is given up.
 *
 * run() blocks the calling thread, which only watches the clock and the progress counter.
 * Thread-safety: distinct objects: safe. Shared objects: unsafe; call run() once.
 */
class load_runner
{
public:
    /// Resolves the target host; throws std::runtime_error when it cannot.
    load_runner(const options& o, request_factory& factory);

    run_result run();

private:
    const options& opts_;
    request_factory& factory_;
    run_plan plan_;
};

} // namespace bench::load
