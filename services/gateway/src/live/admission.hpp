#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace common::metrics {
class registry;
}

namespace gateway {

/**
 * Who may open a live stream on this instance, decided before the WebSocket upgrade: at most
 * `max_connections` at once (MB_MAX_CONNECTIONS), new ones no faster than `rate` per second
 * (MB_CONNECTION_RATE, bursts of one second's worth), and at most `per_user` per user
 * (MB_LIVE_STREAMS_PER_USER). Refusals are problems: 503 `TOO_MANY_CONNECTIONS` and
 * `CONNECTION_RATE_EXCEEDED` (the instance is busy; Retry-After), 429 `TOO_MANY_STREAMS`.
 * Thread-safety: shared.
 */
class stream_admission
{
public:
    struct limits
    {
        std::size_t max_connections = 50000;
        std::size_t per_user = 20;
        double rate = 500; // new connections per second
    };

    /** A place taken; given back when the last copy goes. */
    class ticket;

    stream_admission(limits l, common::metrics::registry& metrics);
    ~stream_admission();
    stream_admission(const stream_admission&) = delete;
    stream_admission& operator=(const stream_admission&) = delete;

    /** A place for a new connection, before anyone is authenticated; throws a 503 problem. */
    std::shared_ptr<ticket> enter();
    /** Counts `t` against `user`'s streams; throws a 429 problem when they hold `per_user` already. */
    void claim(ticket& t, const std::string& user);

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace gateway
