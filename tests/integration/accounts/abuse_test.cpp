// Abuse protection, shared by all gateway instances through Redis.
#include "support/account_flow.hpp"
#include "support/deployment.hpp"
#include "support/stack.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(abuse)

namespace {

/** POST /v1/auth/login through a proxy that sent X-Forwarded-For: `forwarded_for`. */
test::http_result login_via(const test::running_service& gw, const std::string& forwarded_for, const std::string& email,
                            const std::string& password = test::good_password)
{
    return test::http_call(gw.port, http::verb::post, "/v1/auth/login",
                           json::serialize(json::object{{"email", email}, {"password", password}}),
                           {{"X-Forwarded-For", forwarded_for}});
}

/** The `ip` of the session `token` as GET /v1/me/sessions lists it. */
std::string session_ip(const test::running_service& gw, const std::string& token)
{
    auto list = test::get_with(gw, "/v1/me/sessions", token);
    BOOST_REQUIRE_MESSAGE(list.status == 200U, list);
    auto all = list.json();
    for (const auto& s : all.as_array())
        if (s.at("current").as_bool())
            return std::string(s.at("ip").as_string());
    BOOST_FAIL("no current session in " << list);
    return {};
}

std::string token_of(const test::http_result& r)
{
    BOOST_REQUIRE_MESSAGE(r.status == 200U, r);
    return std::string(r.json().at("token").as_string());
}

} // namespace

BOOST_AUTO_TEST_CASE(failed_logins_per_account_are_limited_across_instances)
{
    test::deployment d({.gateways = 2, .gateway_env = {{"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "3/15m"}}});
    auto& a = d.gw(0);
    auto& b = d.gw(1);
    auto victim = test::unique_email("victim");
    auto bystander = test::unique_email("bystander");
    test::verified_login(a, victim);
    test::verified_login(a, bystander);

    BOOST_TEST(test::login(a, victim, "guess number one").status == 401U);
    BOOST_TEST(test::login(b, victim, "guess number two").status == 401U);
    BOOST_TEST(test::login(a, victim, "guess number three").status == 401U);
    // The fourth attempt is refused on either instance, even with the right password.
    test::expect_rate_limited(test::login(b, victim, "guess number four"));
    test::expect_rate_limited(test::login(a, victim));
    // Addresses are compared case-insensitively for the limit too.
    std::string upper = victim;
    upper[0] = static_cast<char>(std::toupper(upper[0]));
    test::expect_rate_limited(test::login(b, upper));
    // Others are not affected.
    BOOST_TEST(test::login(b, bystander).status == 200U);
}

BOOST_AUTO_TEST_CASE(a_successful_login_clears_the_per_account_count)
{
    test::deployment d({.gateway_env = {{"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "3/15m"}}});
    auto& gw = d.gw();
    auto user = test::unique_email("forgetful");
    test::verified_login(gw, user);

    // Two wrong passwords, then the right one (the third attempt of three).
    BOOST_TEST(test::login(gw, user, "wrong password one").status == 401U);
    BOOST_TEST(test::login(gw, user, "wrong password two").status == 401U);
    BOOST_TEST_REQUIRE(test::login(gw, user).status == 200U);
    // The success cleared the count: three more attempts are allowed again...
    BOOST_TEST(test::login(gw, user, "wrong password three").status == 401U);
    BOOST_TEST(test::login(gw, user, "wrong password four").status == 401U);
    BOOST_TEST(test::login(gw, user, "wrong password five").status == 401U);
    // ...and the limit still applies after them.
    test::expect_rate_limited(test::login(gw, user));
}

BOOST_AUTO_TEST_CASE(behind_a_trusted_proxy_limits_count_per_forwarded_address)
{
    // MB_TRUST_FORWARDED_FOR: the client address is the last X-Forwarded-For hop, the one the proxy
    // appended; what the client put before it is not trusted.
    test::deployment d({.gateway_env = {{"MB_TRUST_FORWARDED_FOR", "true"}, {"MB_RATE_LOGIN_FAILURES_PER_IP", "2/15m"}}});
    auto& gw = d.gw();
    auto user = test::unique_email("proxied");
    test::verified_login(gw, user);

    // Client 203.0.113.10 uses up its budget...
    BOOST_TEST(login_via(gw, "203.0.113.10", test::unique_email("spray"), "some password 123").status == 401U);
    BOOST_TEST(login_via(gw, "203.0.113.10", test::unique_email("spray"), "some password 123").status == 401U);
    test::expect_rate_limited(login_via(gw, "203.0.113.10", user));
    // ...and cannot get a fresh one by claiming another address before the proxy's hop.
    test::expect_rate_limited(login_via(gw, "198.51.100.77, 203.0.113.10", user));

    // Client 203.0.113.20, behind the same proxy (the same peer address), has its own budget, and its
    // session shows its address.
    auto s20 = token_of(login_via(gw, "203.0.113.20", user));
    BOOST_TEST(session_ip(gw, s20) == "203.0.113.20");
    auto s_hops = token_of(login_via(gw, "198.51.100.77, 203.0.113.21", user));
    BOOST_TEST(session_ip(gw, s_hops) == "203.0.113.21");
    BOOST_TEST(login_via(gw, "203.0.113.20", test::unique_email("spray"), "some password 123").status == 401U);
    BOOST_TEST(login_via(gw, "203.0.113.20", test::unique_email("spray"), "some password 123").status == 401U);
    test::expect_rate_limited(login_via(gw, "203.0.113.20", user));
    // A request without the header counts for the peer address (loopback here), untouched so far.
    auto direct = test::login(gw, user);
    BOOST_TEST(direct.status == 200U, direct);
    if (direct.status == 200U)
        BOOST_TEST(session_ip(gw, token_of(direct)) == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(without_trust_x_forwarded_for_is_ignored)
{
    // The default: the peer address counts, whatever X-Forwarded-For says.
    test::deployment d({.gateway_env = {{"MB_RATE_LOGIN_FAILURES_PER_IP", "2/15m"}}});
    auto& gw = d.gw();
    auto user = test::unique_email("direct");
    test::verified_login(gw, user);

    auto s = token_of(login_via(gw, "203.0.113.9", user));
    BOOST_TEST(session_ip(gw, s) == "127.0.0.1");
    // A client forging a new address on every attempt still spends one budget.
    BOOST_TEST(login_via(gw, "203.0.113.1", test::unique_email("spray"), "some password 123").status == 401U);
    BOOST_TEST(login_via(gw, "203.0.113.2", test::unique_email("spray"), "some password 123").status == 401U);
    test::expect_rate_limited(login_via(gw, "203.0.113.3", user));
    test::expect_rate_limited(login_via(gw, "198.51.100.4, 203.0.113.4", user));
    test::expect_rate_limited(test::login(gw, user));
}

BOOST_AUTO_TEST_CASE(failed_logins_per_ip_are_limited)
{
    test::deployment d({.gateway_env = {{"MB_RATE_LOGIN_FAILURES_PER_IP", "4/15m"}}});
    auto& gw = d.gw();
    auto user = test::unique_email("owner");
    test::verified_login(gw, user);
    // Spraying different addresses from one address.
    for (int i = 0; i < 4; ++i)
        BOOST_TEST(test::login(gw, test::unique_email("spray"), "some password 123").status == 401U);
    test::expect_rate_limited(test::login(gw, test::unique_email("spray"), "some password 123"));
    test::expect_rate_limited(test::login(gw, user));
}

BOOST_AUTO_TEST_CASE(registrations_per_ip_are_limited)
{
    test::deployment d({.gateway_env = {{"MB_RATE_REGISTRATIONS_PER_IP", "2/1h"}}});
    auto& gw = d.gw();
    test::register_account(gw, test::unique_email("r1"));
    test::register_account(gw, test::unique_email("r2"));
    auto third = test::post_json(gw, "/v1/auth/register",
                                 {{"email", test::unique_email("r3")}, {"password", test::good_password}, {"name", "X"}});
    test::expect_rate_limited(third);
}

BOOST_AUTO_TEST_CASE(limits_hold_while_redis_is_unreachable)
{
    // Redis down: the gateway falls back to limiting in-process rather than not limiting.
    auto dead_redis = "redis://127.0.0.1:" + std::to_string(test::free_port());
    test::deployment d({.gateway_env = {{"MB_REDIS_URL", dead_redis}, {"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "2/15m"}},
                        .wait_ready = false});
    auto& gw = d.gw();
    BOOST_REQUIRE(test::wait_for_port(gw.port, std::chrono::seconds(20)));
    auto email = test::unique_email("fallback");
    // Wait for the migrations (readiness stays 503 without Redis; registration answers once migrated).
    test::http_result r;
    for (int i = 0; i < 100; ++i) {
        r = test::post_json(gw, "/v1/auth/register", {{"email", email}, {"password", test::good_password}, {"name", "F"}});
        if (r.status != 503U)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST_REQUIRE(r.status == 201U, r);
    BOOST_TEST(test::login(gw, email, "wrong password one").status == 401U);
    BOOST_TEST(test::login(gw, email, "wrong password two").status == 401U);
    test::expect_rate_limited(test::login(gw, email, "wrong password three"));
}

BOOST_AUTO_TEST_SUITE_END()
