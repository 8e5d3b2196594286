#pragma once

#include "event.hpp"

#include "common/db/pg_pool.hpp"
#include "common/metrics.hpp"
#include "common/util/background_loop.hpp"


#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ingest {

using namespace common::aliases;

/** An event as committed: its place in the order, its home, and what readers get. */
struct stored_event
{
    std::int64_t seq = 0;
    std::int64_t home_id = 0;
    std::string payload;
};

/**
 * Durable storage of events with one writer that batches: every request hands its event over and
 * waits; the writer commits whatever has accumulated in one transaction (so throughput is not one
 * fsync per event), then wakes each waiter with the outcome. Duplicates (same signed body) are
 * acknowledged and stored once. seq follows commit order across instances: each batch takes a
 * transaction-scoped advisory lock before drawing its seq values.
 *
 * `run` is the writer and runs on the strand given at construction (`executor()`). `store` may be
 * called from any coroutine; it resumes on the caller's executor. Thread-safety: shared.
 */
class event_store
{
public:
    event_store(net::any_io_executor strand, common::db::pg_pool& db, common::metrics::registry& m,
                std::size_t max_batch = 1000);

    static std::vector<std::pair<std::string, std::string>> statements();

    /** Commits `e`; returns its seq (that of the first delivery for a duplicate). Throws
        common::db::unavailable when it cannot be stored: nothing is acknowledged then. */
    net::awaitable<std::int64_t> store(incoming_event e);

    /** Called on the writer's strand with each batch's new events, in seq order. */
    void on_committed(std::function<void(std::vector<stored_event>)> f) { committed_ = std::move(f); }

    net::awaitable<void> run();
    void stop();
    net::any_io_executor executor() { return loop_.executor(); }

private:
    struct waiter;
    std::vector<std::shared_ptr<waiter>> take_batch();
    /** Commits one batch of queued events; false when none was queued. */
    net::awaitable<bool> store_pass();
    void finish(std::vector<std::shared_ptr<waiter>>& batch);

    common::db::pg_pool& db_;
    std::size_t max_batch_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<waiter>> queue_;
    common::background_loop loop_;
    std::function<void(std::vector<stored_event>)> committed_;
    common::metrics::counter& stored_;
    common::metrics::counter& duplicates_;
    common::metrics::histogram& batch_sizes_;
};

} // namespace ingest
