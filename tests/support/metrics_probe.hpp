#pragma once

// Reading one sample of a service's GET /metrics (Prometheus text), for tests that show an effect the
// service only counts (e.g. session lookups answered from the cache rather than PostgreSQL).

#include "support/http_call.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace test {

/**
 * The value of `sample` (the metric name with its labels as rendered, e.g.
 * `mb_session_cache_total{result="hit"}`) in GET /metrics of the service on 127.0.0.1:port. Fails the
 * test when /metrics does not answer 200 or has no such sample.
 */
inline double metric_sample(unsigned short port, const std::string& sample)
{
    auto r = http_call(port, http::verb::get, "/metrics");
    BOOST_REQUIRE_MESSAGE(r.status == 200U, "GET /metrics: " << r);
    // Search "\n" + body for "\n" + sample: a match at index i there starts the sample at i in body.
    auto at = ("\n" + r.body).find("\n" + sample + " ");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, sample << " not in /metrics");
    return std::stod(r.body.substr(at + sample.size() + 1));
}

/** Session lookups of the gateway on `port` answered from its session cache so far. */
inline long long session_cache_hits(unsigned short port)
{
    return static_cast<long long>(metric_sample(port, "mb_session_cache_total{result=\"hit\"}"));
}

/** Session lookups of the gateway on `port` that went to PostgreSQL (not in the cache, or cache bypassed). */
inline long long session_cache_misses(unsigned short port)
{
    return static_cast<long long>(metric_sample(port, "mb_session_cache_total{result=\"miss\"}"));
}

} // namespace test
