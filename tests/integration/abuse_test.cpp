// Abuse protection, shared by all gateway instances through Redis.
#include "support/account_flow.hpp"
#include "support/stack.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(abuse)

namespace {

void expect_limited(const test::http_result& r)
{
    BOOST_TEST(r.status == 429U, r);
    BOOST_TEST(r.json().at("code").as_string() == "RATE_LIMITED");
    auto retry = r.header("Retry-After");
    BOOST_TEST_REQUIRE(!retry.empty());
    BOOST_TEST(std::stoi(retry) > 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(failed_logins_per_account_are_limited_across_instances)
{
    test::scratch_database db;
    auto sim = test::start_mode_sim();
    std::map<std::string, std::string> env{{"MB_SECRET_KEY", test::random_secret_key()},
                                           {"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "3/15m"}};
    auto a = test::start_gateway(db.url(), sim.base_url(), env);
    auto b = test::start_gateway(db.url(), sim.base_url(), env);
    auto victim = test::unique_email("victim");
    auto bystander = test::unique_email("bystander");
    test::verified_login(a, victim);
    test::verified_login(a, bystander);

    BOOST_TEST(test::login(a, victim, "guess number one").status == 401U);
    BOOST_TEST(test::login(b, victim, "guess number two").status == 401U);
    BOOST_TEST(test::login(a, victim, "guess number three").status == 401U);
    // The fourth attempt is refused on either instance, even with the right password.
    expect_limited(test::login(b, victim, "guess number four"));
    expect_limited(test::login(a, victim));
    // Addresses are compared case-insensitively for the limit too.
    std::string upper = victim;
    upper[0] = static_cast<char>(std::toupper(upper[0]));
    expect_limited(test::login(b, upper));
    // Others are not affected.
    BOOST_TEST(test::login(b, bystander).status == 200U);
}

BOOST_AUTO_TEST_CASE(failed_logins_per_ip_are_limited)
{
    test::scratch_database db;
    auto sim = test::start_mode_sim();
    auto gw = test::start_gateway(db.url(), sim.base_url(), {{"MB_RATE_LOGIN_FAILURES_PER_IP", "4/15m"}});
    auto user = test::unique_email("owner");
    test::verified_login(gw, user);
    // Spraying different addresses from one address.
    for (int i = 0; i < 4; ++i)
        BOOST_TEST(test::login(gw, test::unique_email("spray"), "some password 123").status == 401U);
    expect_limited(test::login(gw, test::unique_email("spray"), "some password 123"));
    expect_limited(test::login(gw, user));
}

BOOST_AUTO_TEST_CASE(registrations_per_ip_are_limited)
{
    test::scratch_database db;
    auto sim = test::start_mode_sim();
    auto gw = test::start_gateway(db.url(), sim.base_url(), {{"MB_RATE_REGISTRATIONS_PER_IP", "2/1h"}});
    test::register_account(gw, test::unique_email("r1"));
    test::register_account(gw, test::unique_email("r2"));
    auto third = test::post_json(gw, "/v1/auth/register",
                                 {{"email", test::unique_email("r3")}, {"password", test::good_password}, {"name", "X"}});
    expect_limited(third);
}

BOOST_AUTO_TEST_CASE(limits_hold_while_redis_is_unreachable)
{
    // Redis down: the gateway falls back to limiting in-process rather than not limiting.
    test::scratch_database db;
    auto sim = test::start_mode_sim();
    auto dead_redis = "redis://127.0.0.1:" + std::to_string(test::free_port());
    auto gw = test::start_gateway(db.url(), sim.base_url(),
                                  {{"MB_REDIS_URL", dead_redis}, {"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "2/15m"}}, false);
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
    expect_limited(test::login(gw, email, "wrong password three"));
}

BOOST_AUTO_TEST_SUITE_END()
