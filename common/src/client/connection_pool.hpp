#pragma once

#include "client/connection.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace common::client::detail {

/**
 * Idle keep-alive connections per key ("scheme://host:port"), most recently used first, each
 * dropped once it has been idle for `ttl`. Connections handed out are owned by the caller until
 * given back with release().
 *
 * Thread-safety: every member may be called from any thread (one mutex). Dropped connections are
 * destroyed outside the lock; an idle connection has no pending operation, so destroying it (which
 * closes its socket) is safe on any thread.
 */
class connection_pool
{
public:
    using clock = std::chrono::steady_clock;

    connection_pool(std::size_t max_idle_per_key, std::chrono::milliseconds ttl)
        : max_idle_(max_idle_per_key)
        , ttl_(ttl)
    {}

    /// An idle connection for `key` that still looks alive, or null.
    /// `verify`: check (one poll) that the server has not closed it meanwhile. Idempotent requests
    /// skip the check when the connection was idle only briefly: should it have been closed after
    /// all, the request is simply sent again on a fresh connection.
    std::shared_ptr<connection> acquire(const std::string& key, bool verify = true);
    /// Gives back a connection that can carry another request.
    void release(const std::string& key, std::shared_ptr<connection> conn);
    void clear();
    std::size_t size() const;

private:
    struct idle_entry
    {
        std::shared_ptr<connection> conn;
        clock::time_point since;
    };
    using dropped = std::vector<std::shared_ptr<connection>>;

    void sweep_locked(clock::time_point now, dropped& out);

    const std::size_t max_idle_;
    const std::chrono::milliseconds ttl_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<idle_entry>> idle_;
};

} // namespace common::client::detail
