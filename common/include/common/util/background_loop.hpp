#pragma once

#include "common/net/aliases.hpp"
#include "common/util/backoff.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace common {


/**
 * A background worker's loop: runs one pass after another on its strand until `stop`. A pass answers
 * whether more work is waiting (then the next pass starts at once) or not (then the loop sleeps `idle`,
 * or until `wake`). A pass that throws is logged under `log_event` (`{"error": what}`) and the loop
 * sleeps `after_error`, which counts consecutive failures and starts over after a pass that succeeds.
 *
 * Runs on the strand given at construction: `run` must be spawned there. Thread-safety: `wake` and
 * `stop` may be called from any thread; everything else belongs to the strand.
 */
class background_loop
{
public:
    /** One pass: true when more work is waiting. */
    using pass = std::function<net::awaitable<bool>()>;
    /** For `idle`: sleep until `wake` or `stop`. */
    static constexpr std::chrono::milliseconds until_woken = std::chrono::milliseconds::max();

    background_loop(net::any_io_executor strand, std::string log_event, std::chrono::milliseconds idle,
                    backoff after_error);

    /** Runs passes until `stop`. */
    net::awaitable<void> run(pass one_pass);
    /** Cuts the current sleep short; a wake during a pass runs another pass right after it. */
    void wake();
    /** Ends the loop after the current pass. */
    void stop();
    bool stopped() const { return stopped_; }

    net::any_io_executor executor() { return timer_.get_executor(); }

private:
    net::awaitable<void> sleep(std::chrono::milliseconds d);

    net::steady_timer timer_;
    std::string log_event_;
    std::chrono::milliseconds idle_;
    backoff after_error_;
    std::atomic<bool> stopped_{false};
    std::atomic<bool> woken_{false};
};

} // namespace common
