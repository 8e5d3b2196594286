#pragma once

#include "common/metrics.hpp"
#include "common/web/router.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace common::web {

/** One part `/readyz` checks: a name ("database", "redis") and a probe answering true when usable. */
struct readiness_check
{
    std::string name;
    std::function<net::awaitable<bool>()> probe;
};

/**
 * Adds `GET /healthz` (the process answers), `GET /readyz` (200 when every check passes within
 * `timeout`; otherwise 503 problem+json, code `NOT_READY`, naming the failing parts) and
 * `GET /metrics` (Prometheus text) to `r`. The checks run concurrently. While `draining()` (when given)
 * answers true, `/readyz` answers 503 `SHUTTING_DOWN` without running the checks: the service is on
 * its way out and a load balancer should send it nothing new.
 */
void add_health_routes(router& r, std::shared_ptr<metrics::registry> m, std::vector<readiness_check> checks,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                       std::function<bool()> draining = {});

} // namespace common::web
