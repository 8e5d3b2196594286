#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace common::db {
class pg_pool;
}

namespace gateway {

using namespace common::aliases;

/**
 * The stored events (written by webhook-ingest), read back in seq order: a home's history
 * (GET /v1/homes/{homeId}/events) and the live streams' catch-up. Every query a prepared statement.
 * Runs on the caller's executor; each query on the database pool's workers. Thread-safety: shared.
 */
class event_history_store
{
public:
    explicit event_history_store(common::db::pg_pool& db)
        : db_(db)
    {
    }

    static std::vector<std::pair<std::string, std::string>> statements();

    /** Stored events of a home after `after`, oldest first: {seq, payload}. */
    net::awaitable<std::vector<std::pair<std::int64_t, std::string>>> events(std::int64_t home_id, std::int64_t after,
                                                                           int limit);
    /** Stored events of any of these homes after `after`, oldest first: {seq, payload}. */
    net::awaitable<std::vector<std::pair<std::int64_t, std::string>>>
    events_of_homes(std::vector<std::int64_t> homes, std::int64_t after, int limit);
    /** The highest seq stored (0 when none): every event up to it is committed and readable. */
    net::awaitable<std::int64_t> last_seq();

private:
    common::db::pg_pool& db_;
};

} // namespace gateway
