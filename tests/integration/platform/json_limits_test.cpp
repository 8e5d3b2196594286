// Request bodies are bounded in shape as well as in bytes: nesting depth and the number of values, each
// with a documented default (MB_JSON_MAX_DEPTH, MB_JSON_MAX_MEMBERS) and a clear answer of its own, in
// both services.
#include "support/account_flow.hpp"
#include "support/stack.hpp"
#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using namespace common::aliases;
using test::expect_problem;

namespace {

/** {"email":..,"password":..,"x": <value nested `depth` - 1 levels deep>}: the whole body `depth` deep. */
std::string login_nested(int depth)
{
    std::string inner = "0";
    for (int i = 1; i < depth; ++i)
        inner = "[" + inner + "]";
    return R"({"email":"nobody@example.com","password":"wrong password","x":)" + inner + "}";
}

/** "0,0,...": `n` numbers. */
std::string zeros(int n)
{
    std::string items;
    for (int i = 0; i < n; ++i)
        items += i == 0 ? "0" : ",0";
    return items;
}

/** A login body with an array of `n` numbers besides its two strings: n + 3 members (array items count). */
std::string login_wide(int n)
{
    return R"({"email":"nobody@example.com","password":"wrong password","x":[)" + zeros(n) + "]}";
}

test::http_result post_login(const test::running_service& gw, const std::string& body)
{
    return test::http_call(gw.port, http::verb::post, "/v1/auth/login", body);
}

} // namespace

BOOST_AUTO_TEST_SUITE(text_input)

// Defaults: 32 levels (what every client could send until now) and 10000 values.
BOOST_AUTO_TEST_CASE(json_depth_and_size_have_default_limits_with_their_own_codes)
{
    test::scratch_database db;
    auto gw = test::start_gateway(db.url(), "http://127.0.0.1:9");
    expect_problem(post_login(gw, login_nested(32)), 401, "INVALID_CREDENTIALS");
    expect_problem(post_login(gw, login_nested(33)), 400, "JSON_TOO_DEEP");
    expect_problem(post_login(gw, login_wide(9997)), 401, "INVALID_CREDENTIALS");
    expect_problem(post_login(gw, login_wide(9998)), 413, "JSON_TOO_LARGE");
    // Still broken JSON is what it was.
    expect_problem(post_login(gw, "{\"email\":"), 400, "MALFORMED_JSON");
}

BOOST_AUTO_TEST_CASE(json_limits_follow_the_configuration)
{
    test::scratch_database db;
    auto gw = test::start_gateway(db.url(), "http://127.0.0.1:9",
                                  {{"MB_JSON_MAX_DEPTH", "4"}, {"MB_JSON_MAX_MEMBERS", "50"}});
    expect_problem(post_login(gw, login_nested(4)), 401, "INVALID_CREDENTIALS");
    auto deep = post_login(gw, login_nested(5));
    expect_problem(deep, 400, "JSON_TOO_DEEP");
    BOOST_TEST(deep.body.find("4") != std::string::npos, deep); // the message names the limit
    expect_problem(post_login(gw, login_wide(47)), 401, "INVALID_CREDENTIALS");
    auto wide = post_login(gw, login_wide(48));
    expect_problem(wide, 413, "JSON_TOO_LARGE");
    BOOST_TEST(wide.body.find("50") != std::string::npos, wide);

    // The webhook receiver bounds MODE's events the same way (a signed event, so only its shape is at fault).
    auto ingest = test::start_ingest(db.url(), {{"MB_JSON_MAX_DEPTH", "4"}, {"MB_JSON_MAX_MEMBERS", "50"}});
    auto post_event = [&](const std::string& data) {
        auto body = R"({"homeId":1,"eventType":"limits","eventData":)" + data + "}";
        return test::post_signed_event(ingest, body);
    };
    auto fits = post_event(R"({"a":{"b":{"c":1}}})");
    BOOST_TEST(fits.status == 204U, fits);
    auto deep_event = post_event(R"({"a":{"b":{"c":{"d":1}}}})");
    expect_problem(deep_event, 400, "INVALID_EVENT");
    BOOST_TEST(deep_event.body.find("deeper") != std::string::npos, deep_event);
    auto wide_event = post_event("{\"a\":[" + zeros(60) + "]}");
    expect_problem(wide_event, 400, "INVALID_EVENT");
    BOOST_TEST(wide_event.body.find("50") != std::string::npos, wide_event);
}

BOOST_AUTO_TEST_SUITE_END()
