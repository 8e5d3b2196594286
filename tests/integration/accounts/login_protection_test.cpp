// Login protection (README, "Login protection"): attempts are counted before the password is checked,
// password work beyond a short queue is refused, and strangers cannot lock an owner out.
#include "support/account_flow.hpp"
#include "support/stack.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(login_protection)

namespace {

using env = std::map<std::string, std::string>;

struct fixture
{
    explicit fixture(env vars)
        : sim(test::start_mode_sim())
        , gw(test::start_gateway(db.url(), sim.base_url(), std::move(vars)))
    {
    }
    test::scratch_database db;
    test::running_service sim;
    test::running_service gw;
};

/** `n` wrong logins to unknown addresses sent at once; the statuses (and codes) that came back. */
std::map<std::string, int> storm(const test::running_service& gw, int n)
{
    std::mutex m;
    std::map<std::string, int> seen;
    std::vector<std::thread> clients;
    std::atomic<int> ready{0};
    for (int i = 0; i < n; ++i) {
        clients.emplace_back([&] {
            auto email = test::unique_email("spray");
            ready.fetch_add(1);
            while (ready.load() < n)
                std::this_thread::yield();
            std::string what;
            try {
                auto r = test::login(gw, email, "not the password 123");
                what = std::to_string(r.status);
                if (r.status == 429U || r.status == 503U) {
                    what += " " + std::string(r.json().at("code").as_string());
                    if (r.header("Retry-After").empty())
                        what += " without Retry-After";
                }
            } catch (const std::exception& e) {
                what = std::string("failed: ") + e.what();
            }
            std::lock_guard lock(m);
            ++seen[what];
        });
    }
    for (auto& t : clients)
        t.join();
    return seen;
}

std::string device_token_of(const test::http_result& r)
{
    BOOST_REQUIRE_MESSAGE(r.status == 200U, r);
    auto o = r.json().as_object();
    BOOST_REQUIRE_MESSAGE(o.contains("deviceToken"), r);
    return std::string(o.at("deviceToken").as_string());
}

test::http_result login_on_device(const test::running_service& gw, const std::string& email,
                                  const std::string& password, const std::string& device)
{
    return test::post_json(gw, "/v1/auth/login", {{"email", email}, {"password", password}, {"deviceToken", device}});
}

} // namespace

BOOST_AUTO_TEST_CASE(concurrent_wrong_logins_cannot_overrun_the_address_limit)
{
    // 60 wrong logins at once against a limit of 20 failures: exactly 20 are judged, whatever the timing.
    fixture f(env{{"MB_RATE_LOGIN_FAILURES_PER_IP", "20/15m"}, {"MB_PASSWORD_HASH_QUEUE", "1000"}});
    auto seen = storm(f.gw, 60);
    BOOST_TEST_MESSAGE("answers: " << json::serialize(json::value_from(seen)));
    BOOST_TEST(seen["401"] == 20);
    BOOST_TEST(seen["429 RATE_LIMITED"] == 40);
    BOOST_TEST(seen.size() == 2U);
}

BOOST_AUTO_TEST_CASE(a_right_password_hands_its_attempt_back_to_the_address)
{
    fixture f(env{{"MB_RATE_LOGIN_FAILURES_PER_IP", "3/15m"}});
    auto email = test::unique_email("regular");
    test::verified_login(f.gw, email);
    for (int i = 0; i < 5; ++i)
        BOOST_TEST_REQUIRE(test::login(f.gw, email).status == 200U);
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(test::login(f.gw, test::unique_email("spray"), "not the password 123").status == 401U);
    test::expect_rate_limited(test::login(f.gw, email));
}

BOOST_AUTO_TEST_CASE(password_work_past_the_queue_is_refused_with_503_and_costs_no_attempt)
{
    // One hashing thread and room for two waiting checks: a burst of 40 logins gets 503 BUSY for the
    // surplus at once instead of queueing, and the refused attempts are not counted as failures.
    fixture f(env{{"MB_PASSWORD_HASH_THREADS", "1"},
               {"MB_PASSWORD_HASH_QUEUE", "2"},
               {"MB_RATE_LOGIN_FAILURES_PER_IP", "40/15m"}});
    auto email = test::unique_email("bystander");
    auto session = test::verified_login(f.gw, email);
    auto seen = storm(f.gw, 40);
    BOOST_TEST_MESSAGE("answers: " << json::serialize(json::value_from(seen)));
    BOOST_TEST(seen["503 BUSY"] > 0);
    BOOST_TEST(seen["401"] > 0);
    BOOST_TEST(seen["401"] + seen["503 BUSY"] == 40);
    // Token calls were never queued behind the hashing.
    BOOST_TEST(test::get_with(f.gw, "/v1/me", session).status == 200U);
    // The address has 40 - (judged failures) attempts left, exactly: the refused ones were handed back.
    int left = 40 - seen["401"];
    for (int i = 0; i < left; ++i)
        BOOST_TEST_REQUIRE(test::login(f.gw, test::unique_email("spray"), "not the password 123").status == 401U);
    test::expect_rate_limited(test::login(f.gw, test::unique_email("spray"), "not the password 123"));
}

BOOST_AUTO_TEST_CASE(a_registration_refused_as_busy_costs_the_address_nothing)
{
    // One hashing thread, room for one waiting hash: most of 20 registrations at once get 503 BUSY, and
    // those are handed back to the address's registration budget.
    fixture f(env{{"MB_PASSWORD_HASH_THREADS", "1"},
                  {"MB_PASSWORD_HASH_QUEUE", "1"},
                  {"MB_RATE_REGISTRATIONS_PER_IP", "20/1h"}});
    std::mutex m;
    std::map<unsigned, int> seen;
    std::vector<std::thread> clients;
    for (int i = 0; i < 20; ++i)
        clients.emplace_back([&] {
            auto r = test::post_json(f.gw, "/v1/auth/register",
                                     {{"email", test::unique_email("burst")}, {"password", test::good_password}, {"name", "B"}});
            std::lock_guard lock(m);
            ++seen[r.status];
        });
    for (auto& t : clients)
        t.join();
    BOOST_TEST(seen[503U] > 0);
    BOOST_TEST(seen[201U] + seen[503U] == 20);
    for (int i = seen[201U]; i < 20; ++i)
        BOOST_TEST_REQUIRE(test::register_account(f.gw, test::unique_email("later")).size() > 0U);
    test::expect_rate_limited(test::post_json(f.gw, "/v1/auth/register",
                                              {{"email", test::unique_email("one-too-many")},
                                               {"password", test::good_password},
                                               {"name", "B"}}));
}

BOOST_AUTO_TEST_CASE(strangers_cannot_lock_the_owner_out_of_a_known_device)
{
    fixture f(env{{"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "3/15m"}});
    auto owner = test::unique_email("owner");
    auto other = test::unique_email("other");
    test::verified_login(f.gw, owner);
    test::verified_login(f.gw, other);
    auto device = device_token_of(test::login(f.gw, owner));
    auto others_device = device_token_of(test::login(f.gw, other));

    // A stranger spends the account's attempts: unknown clients are locked out, the right password too.
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(test::login(f.gw, owner, "guess " + std::to_string(i) + " of a stranger").status == 401U);
    test::expect_rate_limited(test::login(f.gw, owner), "the owner on an unknown client");
    // Another account's device token, or a forged one, makes no client known.
    test::expect_rate_limited(login_on_device(f.gw, owner, test::good_password, others_device), "another's device");
    auto forged = device.substr(0, device.find('.') + 1) + "AAAAAAAAAAAAAAAAAAAAAA";
    test::expect_rate_limited(login_on_device(f.gw, owner, test::good_password, forged), "a forged device token");

    // The owner's device still logs in, and keeps its token; the success lifts the account's lock.
    auto back = login_on_device(f.gw, owner, test::good_password, device);
    BOOST_TEST(device_token_of(back) == device);
    BOOST_TEST(test::login(f.gw, owner).status == 200U);
}

BOOST_AUTO_TEST_CASE(a_stolen_device_token_gets_no_more_guesses_than_the_account)
{
    fixture f(env{{"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "3/15m"}});
    auto owner = test::unique_email("owner");
    test::verified_login(f.gw, owner);
    auto device = device_token_of(test::login(f.gw, owner));
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(login_on_device(f.gw, owner, "guess " + std::to_string(i), device).status == 401U);
    test::expect_rate_limited(login_on_device(f.gw, owner, test::good_password, device), "the guessing device");
    // The device's own count does not lock the account for the owner's other clients.
    BOOST_TEST(test::login(f.gw, owner).status == 200U);
}

BOOST_AUTO_TEST_CASE(a_password_reset_lifts_the_account_lock)
{
    fixture f(env{{"MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", "3/15m"}});
    auto owner = test::unique_email("owner");
    test::verified_login(f.gw, owner);
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(test::login(f.gw, owner, "guess " + std::to_string(i) + " of a stranger").status == 401U);
    test::expect_rate_limited(test::login(f.gw, owner), "before the reset");

    BOOST_TEST(test::post_json(f.gw, "/v1/auth/forgot-password", {{"email", owner}}).status == 202U);
    auto token = test::token_from_mail(owner, "Reset");
    auto reset = test::post_json(f.gw, "/v1/auth/reset-password", {{"token", token}, {"password", "a brand new password"}});
    BOOST_TEST_REQUIRE(reset.status == 204U, reset);
    BOOST_TEST(test::login(f.gw, owner, "a brand new password").status == 200U);
}

BOOST_AUTO_TEST_CASE(a_refused_login_is_answered_only_after_the_refusal_delay)
{
    // A client that ignores Retry-After and retries at once gets about one answer a second per
    // connection, not thousands: refusals (429, 503) wait MB_LOGIN_REFUSAL_DELAY before being sent.
    fixture f(env{{"MB_RATE_LOGIN_FAILURES_PER_IP", "1/15m"}, {"MB_LOGIN_REFUSAL_DELAY", "1500ms"}});
    BOOST_TEST(test::login(f.gw, test::unique_email("spray"), "not the password 123").status == 401U);
    auto started = std::chrono::steady_clock::now();
    test::expect_rate_limited(test::login(f.gw, test::unique_email("spray"), "not the password 123"));
    // A lower bound only: the answer cannot come before the delay, however fast the machine.
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    BOOST_TEST(waited.count() >= 1400);
}

BOOST_AUTO_TEST_SUITE_END()
