#pragma once

#include "event_store.hpp"

#include "common/db/pg_pool.hpp"
#include "common/metrics.hpp"
#include "common/redis/connection.hpp"
#include "common/util/background_loop.hpp"

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace ingest {

/**
 * Publishes committed events on Redis, one channel per home (`mb:home:<id>`), in the live-stream form
 * with their seq, pipelined. PostgreSQL stays the source of truth: an event is marked published once
 * Redis took it, and a relay republishes, in seq order, whatever was not (Redis was down, or the process
 * stopped in between; checked every second). While a backlog exists, new events wait for the relay.
 * After each batch is marked, the published watermark (every event up to it is published, whichever
 * instance published it) is announced on `mb:published`; gateways deliver in seq order against it.
 * Readers may see an event twice (after a restart); they dedupe by seq.
 *
 * Runs on the strand given at construction (`run` is spawned there). Thread-safety: `committed` and
 * `stop` may be called from any thread.
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
    net::any_io_executor executor() { return loop_.executor(); }

private:
    net::awaitable<void> publish(const std::vector<stored_event>& events);
    /** Marks them published; returns the published watermark (every event up to it is published). */
    net::awaitable<std::int64_t> mark_published(const std::vector<stored_event>& events);
    /** PUBLISHes the watermark on published_channel() when it moved up. */
    net::awaitable<void> announce(std::int64_t through);
    /** One relay round; returns how many events it republished. */
    net::awaitable<std::size_t> relay_once(bool backlog);
    /** One pass of the loop: the pending events, or a relay round; true when more is waiting. */
    net::awaitable<bool> publish_pass();

    common::redis::connection& redis_;
    common::db::pg_pool& db_;
    std::mutex mutex_;
    std::deque<stored_event> pending_;
    bool backlog_ = false; // on the strand
    std::int64_t announced_ = 0; // on the strand: the last watermark announced
    std::chrono::steady_clock::time_point last_relay_{}; // on the strand
    common::metrics::counter& published_;
    common::metrics::counter& relayed_;
    common::metrics::gauge& backlog_gauge_;
    common::background_loop loop_;
};

} // namespace ingest
