#pragma once

#include "event_store.hpp"

#include "common/db/pg_pool.hpp"
#include "common/metrics.hpp"
#include "common/redis/connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace ingest {

/**
 * Publishes committed events on Redis, one channel per home (`mb:home:<id>`), in the live-stream form
 * with their seq, pipelined. PostgreSQL stays the source of truth: an event is marked published once
 * Redis took it, and a relay republishes, in seq order, whatever was not (Redis was down, or the process
 * stopped in between). While a backlog exists, new events wait for the relay, so they never overtake
 * older ones. Readers may see an event twice (after a restart); they dedupe by seq.
 *
 * `run` belongs on `executor()` (a strand); `committed` may be called from any thread.
 */
class event_publisher
{
public:
    event_publisher(net::any_io_executor strand, common::redis::connection& redis, common::db::pg_pool& db,
                    common::metrics::registry& m);

    static std::vector<std::pair<std::string, std::string>> statements();

    void committed(std::vector<stored_event> events);

    net::awaitable<void> run();
    void stop();
    net::any_io_executor executor() { return wake_.get_executor(); }

private:
    net::awaitable<void> publish(const std::vector<stored_event>& events);
    /** One relay round; returns how many events it republished. */
    net::awaitable<std::size_t> relay_once(bool backlog);

    common::redis::connection& redis_;
    common::db::pg_pool& db_;
    net::steady_timer wake_;
    std::mutex mutex_;
    std::deque<stored_event> pending_;
    bool backlog_ = false; // on the strand
    std::atomic<bool> stopped_{false};
    common::metrics::counter& published_;
    common::metrics::counter& relayed_;
    common::metrics::gauge& backlog_gauge_;
};

} // namespace ingest
