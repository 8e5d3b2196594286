#pragma once

#include "sessions/session_cache.hpp"

#include "common/redis/connection.hpp"
#include "common/redis/subscriber.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <string>

namespace gateway {

/**
 * Tells every gateway instance, through Redis pub/sub, that a session was revoked or that a user
 * changed (so cached copies are dropped), and applies what the other instances say to this instance's
 * `session_cache`. While its subscription is down the cache is marked untrusted (bypassed); when it
 * comes back, or messages may have been dropped, the cache is cleared.
 *
 * Runs on its own strand (`run`). Thread-safety: `session_revoked` and `user_changed` may be called
 * from any coroutine.
 */
class session_bus
{
public:
    static constexpr const char* channel = "mb:sessions";

    session_bus(net::any_io_executor strand, common::redis::connection& publisher, common::redis::config cfg,
                session_cache& cache);

    /** Receives and applies invalidations until `stop`. Spawn it on `executor()`. */
    net::awaitable<void> run();
    void stop();
    net::any_io_executor executor() { return timer_.get_executor(); }

    /** Drops the session here, then everywhere. */
    net::awaitable<void> session_revoked(std::string session_id);
    /** Drops every cached session of the user here, then everywhere (revocations, account changes). */
    net::awaitable<void> user_changed(std::string user_id);

    /** Counts the reconnects of its subscription on `c` (before `run`). */
    void count_reconnects_on(common::metrics::counter& c) noexcept { subscriber_.count_reconnects_on(c); }

    /** Applies one message payload ("s:<session id>" or "u:<user id>") to the cache. */
    void apply(const std::string& payload);

private:
    net::awaitable<void> publish(std::string payload);
    net::awaitable<void> watch_connection();

    common::redis::connection& publisher_;
    common::redis::subscriber subscriber_;
    session_cache& cache_;
    net::steady_timer timer_;
    std::atomic<bool> stopped_{false};
};

} // namespace gateway
