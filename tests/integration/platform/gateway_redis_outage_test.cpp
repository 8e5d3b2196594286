// Two real gateway processes on a Redis of the test's own, which is killed mid-run and started again
// (empty, as after a crash without persistence): sessions keep working, revocations keep reaching every
// instance, rate limits keep holding with each instance's own counts, and are shared again once Redis is
// back.
#include "support/account_flow.hpp"
#include "support/deployment.hpp"
#include "support/metrics_probe.hpp"
#include "support/redis_server.hpp"
#include "support/stack.hpp"
#include "support/wait.hpp"

#include <boost/test/unit_test.hpp>


using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(gateway_redis_outage)

namespace {

/** Whether GET /readyz comes to answer `status` within `limit`. */
bool readiness_becomes(const test::running_service& gw, unsigned status, std::chrono::milliseconds limit)
{
    return test::eventually([&] { return test::http_call(gw.port, http::verb::get, "/readyz").status == status; },
                            limit);
}

/**
 * Uses `token` on `gw` until one use is counted as a cache hit (`hit`) or as a lookup in PostgreSQL
 * (`!hit`); false when no use is within `limit`. Every use must succeed.
 */
bool a_use_counts_as(const test::running_service& gw, const std::string& token, bool hit,
                     std::chrono::milliseconds limit)
{
    auto count = [&] { return hit ? test::session_cache_hits(gw.port) : test::session_cache_misses(gw.port); };
    return test::eventually(
        [&] {
            auto before = count();
            auto r = test::get_with(gw, "/v1/me", token);
            BOOST_REQUIRE_MESSAGE(r.status == 200U, r);
            return count() == before + 1;
        },
        limit);
}

unsigned failed_login(const test::running_service& gw, const std::string& email)
{
    return test::login(gw, email, "not the password 123").status;
}

} // namespace

BOOST_AUTO_TEST_CASE(sessions_and_limits_work_through_a_redis_outage)
{
    test::redis_server redis;
    // A long cache lifetime, so only a bypassed cache can explain a revocation seen at once.
    test::deployment d({.gateways = 2,
                        .gateway_env = {{"MB_REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis.port())},
                                        {"MB_SESSION_CACHE_TTL", "10m"},
                                        {"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "3/15m"}}});
    auto& a = d.gw(0);
    auto& b = d.gw(1);

    auto email = test::unique_email("through");
    auto token = test::verified_login(a, email);
    auto doomed = std::string(test::login(a, email).json().at("token").as_string());
    // Both sessions in B's cache.
    BOOST_TEST_REQUIRE(test::get_with(b, "/v1/me", doomed).status == 200U);
    BOOST_TEST_REQUIRE(a_use_counts_as(b, doomed, true, std::chrono::seconds(10)));
    BOOST_TEST_REQUIRE(test::get_with(b, "/v1/me", token).status == 200U);
    BOOST_TEST_REQUIRE(a_use_counts_as(b, token, true, std::chrono::seconds(10)));

    // Redis up: the instances add up their counts (the limit counts attempts per address, known or not).
    auto shared = test::unique_email("shared");
    BOOST_TEST(failed_login(a, shared) == 401U);
    BOOST_TEST(failed_login(b, shared) == 401U);
    BOOST_TEST(failed_login(a, shared) == 401U);
    test::expect_rate_limited(test::login(b, shared, "not the password 123"), "4th attempt, Redis up, shared count");

    redis.kill();
    BOOST_TEST_REQUIRE(readiness_becomes(a, 503, std::chrono::seconds(15)));
    BOOST_TEST_REQUIRE(readiness_becomes(b, 503, std::chrono::seconds(15)));

    // With its invalidation stream down, B bypasses its cache: sessions are read from PostgreSQL.
    BOOST_TEST_REQUIRE(a_use_counts_as(b, token, false, std::chrono::seconds(10)),
                       "B still answers from its session cache 10 s after Redis went down");
    const auto hits = test::session_cache_hits(b.port);
    const auto misses = test::session_cache_misses(b.port);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(test::get_with(a, "/v1/me", token).status == 200U);
        BOOST_TEST(test::get_with(b, "/v1/me", token).status == 200U);
    }
    BOOST_TEST(test::session_cache_hits(b.port) == hits);
    BOOST_TEST(test::session_cache_misses(b.port) == misses + 3);
    // So a logout on A reaches B at once, though no message can cross.
    BOOST_TEST(test::post_json(a, "/v1/auth/logout", {}, doomed).status == 204U);
    BOOST_TEST(test::get_with(b, "/v1/me", doomed).status == 401U);
    BOOST_TEST(test::get_with(a, "/v1/me", doomed).status == 401U);
    BOOST_TEST(test::get_with(b, "/v1/me", token).status == 200U);

    // The limit still holds, each instance counting on its own.
    auto local = test::unique_email("local");
    BOOST_TEST(failed_login(a, local) == 401U);
    BOOST_TEST(failed_login(a, local) == 401U);
    BOOST_TEST(failed_login(a, local) == 401U);
    test::expect_rate_limited(test::login(a, local, "not the password 123"), "4th attempt on A, Redis down, A's own count");
    BOOST_TEST(failed_login(b, local) == 401U); // B saw none of A's attempts

    redis.start(); // empty: the counts of before the outage are gone
    BOOST_TEST_REQUIRE(readiness_becomes(a, 200, std::chrono::seconds(30)));
    BOOST_TEST_REQUIRE(readiness_becomes(b, 200, std::chrono::seconds(30)));

    // Shared counts again: A's own count for `local` (at its limit) no longer decides, and attempts on
    // both instances add up in Redis.
    BOOST_TEST(failed_login(a, local) == 401U);
    BOOST_TEST(failed_login(b, local) == 401U);
    BOOST_TEST(failed_login(a, local) == 401U);
    test::expect_rate_limited(test::login(b, local, "not the password 123"), "4th attempt, Redis back, shared count");
    test::expect_rate_limited(test::login(a, local, "not the password 123"), "5th attempt, Redis back, shared count");

    // Sessions work as before, and B's cache is in use again.
    BOOST_TEST(test::get_with(a, "/v1/me", token).status == 200U);
    BOOST_TEST(a_use_counts_as(b, token, true, std::chrono::seconds(15)),
               "B's session cache is not used again 15 s after Redis came back");
    BOOST_TEST(test::get_with(b, "/v1/me", doomed).status == 401U);
}

BOOST_AUTO_TEST_SUITE_END()
