#pragma once

#include "common/app_runner.hpp"
#include "common/config.hpp"
#include "common/db/pg_pool.hpp"
#include "common/metrics.hpp"
#include "common/redis/connection.hpp"
#include "common/web/router.hpp"
#include "common/web/server.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace common {

/**
 * What every modebridge service is made of: the io_context on N threads, the metrics, the PostgreSQL
 * pool (schema migrated at start), the Redis connection, the router with /healthz, /readyz and
 * /metrics, and the HTTP server. A service adds its routes and background work, then calls `run`.
 *
 * Until the migrations are applied, every route but the health ones answers 503 `STORE_UNAVAILABLE`.
 * Shutdown on SIGTERM/SIGINT: stop accepting, finish requests in flight, run the service's own
 * shutdown, stop Redis, then return 0.
 *
 * Thread-safety: build (constructor, routes()) on one thread before `run`; afterwards the parts are
 * shared and thread-safe as documented on each.
 */
class service_host
{
public:
    service_host(std::string name, const config::service_settings& s,
                 std::vector<std::pair<std::string, std::string>> statements);
    ~service_host();

    net::io_context& ioc() noexcept { return runner_.ioc(); }
    metrics::registry& metrics() noexcept { return *metrics_; }
    std::shared_ptr<metrics::registry> metrics_ptr() const noexcept { return metrics_; }
    db::pg_pool& db() noexcept { return db_; }
    redis::connection& redis() noexcept { return redis_; }
    web::router& routes() noexcept { return routes_; }
    bool migrated() const noexcept { return migrated_.load(); }
    bool stopping() const noexcept { return stopping_.load(); }

    /**
     * Serves until asked to stop. `after_migrations` is spawned once the schema is in place (background
     * loops); `on_shutdown` runs after the server drained. Returns the exit code.
     */
    int run(std::function<net::awaitable<void>()> after_migrations, std::function<net::awaitable<void>()> on_shutdown);

    /** A completion handler for co_spawn that logs an escaped exception under `what`. */
    static std::function<void(std::exception_ptr)> log_failure(std::string what);

private:
    std::string name_;
    const config::service_settings& settings_;
    app_runner runner_;
    std::shared_ptr<metrics::registry> metrics_;
    db::pg_pool db_;
    redis::connection redis_;
    web::router routes_;
    std::unique_ptr<web::server> server_;
    std::atomic<bool> migrated_{false};
    std::atomic<bool> stopping_{false};
};

} // namespace common
