// The Webhooks Smart Module's pure policy: what an answer means, the backoff, the request sent, the record's
// JSON. No sockets here (webhook_delivery_test.cpp has those).

#include "webhook_module.hpp"

#include "webhook_receiver.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using namespace modesim;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::string header(const common::client::request& r, const std::string& name)
{
    for (const auto& [n, v] : r.headers)
        if (n == name)
            return v;
    return "<absent>";
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_webhook_policy)

BOOST_AUTO_TEST_CASE(answers_are_judged_as_mode_api_md_decides)
{
    for (unsigned s : {200U, 201U, 202U, 204U, 299U})
        BOOST_TEST_CONTEXT(s) BOOST_TEST((judge_status(s) == attempt_verdict::delivered));
    // "4xx means never again" ...
    for (unsigned s : {400U, 401U, 403U, 404U, 405U, 409U, 410U, 413U, 422U, 499U})
        BOOST_TEST_CONTEXT(s) BOOST_TEST((judge_status(s) == attempt_verdict::final_failure));
    // ... except "not now" (408, 429); and 5xx (and anything else not 2xx) means "try again".
    for (unsigned s : {408U, 429U, 500U, 502U, 503U, 504U, 599U, 301U, 302U, 100U})
        BOOST_TEST_CONTEXT(s) BOOST_TEST((judge_status(s) == attempt_verdict::retry));
}

BOOST_AUTO_TEST_CASE(backoff_doubles_from_the_minimum_up_to_the_cap)
{
    webhook_options o; // defaults: 1 s, 2 s, 4 s ... capped at 30 s
    std::vector<std::chrono::milliseconds> seen;
    for (unsigned n = 1; n <= 7; ++n)
        seen.push_back(backoff_delay(o, n));
    std::vector<std::chrono::milliseconds> want{1s, 2s, 4s, 8s, 16s, 30s, 30s};
    BOOST_TEST(seen == want, boost::test_tools::per_element());
    // A long series stays at the cap (no overflow).
    BOOST_TEST(backoff_delay(o, 1000).count() == 30'000);
    BOOST_TEST(backoff_delay(o, 4'000'000'000U).count() == 30'000);

    o.retry_min = 200ms;
    o.retry_max = 500ms;
    BOOST_TEST(backoff_delay(o, 1).count() == 200);
    BOOST_TEST(backoff_delay(o, 2).count() == 400);
    BOOST_TEST(backoff_delay(o, 3).count() == 500);
}

BOOST_AUTO_TEST_CASE(the_request_is_signed_over_the_configured_url_and_the_body)
{
    // mode-api.md's test vector, checked against OpenSSL directly as well.
    webhook_options o;
    o.url = "https://example.com/evt";
    o.key = "testkey123";
    o.project_id = 173;
    o.timeout = 1500ms;
    const std::string body =
        R"({"homeId":173,"timestamp":"2016-01-04T23:26:09.521Z","eventType":"abc","eventData":{},"originDeviceId":260})";
    auto req = webhook_request(o, body);
    BOOST_TEST((req.method == http::verb::post));
    BOOST_TEST(req.url == o.url);
    BOOST_TEST(req.body == body);
    BOOST_TEST(req.content_type == "application/json");
    BOOST_TEST(header(req, "X-Mode-Signature") == "de0f8e46c21a72fa5619b8ab30ff8754d3d20f668d9d541a1023fb82abafec97");
    BOOST_TEST(header(req, "X-Mode-Signature") == modesim_test::reference_hmac_hex(o.key, o.url + body));
    BOOST_TEST(header(req, "X-Mode-ModuleID") == "webhooks");
    BOOST_TEST(header(req, "X-Mode-ProjectID") == "173");
    BOOST_TEST(req.timeout.value_or(0ms).count() == 1500);

    // The URL is signed as configured, byte for byte: a trailing slash or a query changes the signature.
    o.url = "https://example.com/evt/";
    BOOST_TEST(header(webhook_request(o, body), "X-Mode-Signature") != header(req, "X-Mode-Signature"));
    o.url = "https://example.com/evt?a=1";
    BOOST_TEST(header(webhook_request(o, body), "X-Mode-Signature") ==
               modesim_test::reference_hmac_hex("testkey123", "https://example.com/evt?a=1" + body));
}

BOOST_AUTO_TEST_CASE(a_delivery_renders_with_nulls_until_known)
{
    webhook_delivery d;
    d.id = 3;
    d.event_type = "motion";
    d.home_id = 12;
    d.url = "http://127.0.0.1:1/x";
    d.attempts = 1;
    d.body = R"({"a":1})";
    BOOST_TEST(json::value(to_json(d)) == json::parse(R"({"id":3,"eventType":"motion","homeId":12,
        "url":"http://127.0.0.1:1/x","status":null,"attempts":1,"state":"pending","lastError":null,
        "body":"{\"a\":1}"})"));
    d.status = 503;
    d.last_error = "HTTP 503";
    d.state = delivery_state::failed;
    auto o = to_json(d);
    BOOST_TEST(o.at("status").to_number<std::int64_t>() == 503);
    BOOST_TEST(o.at("lastError").as_string() == "HTTP 503");
    BOOST_TEST(o.at("state").as_string() == "failed");
    BOOST_TEST(to_string(delivery_state::delivered) == "delivered");
}

BOOST_AUTO_TEST_CASE(a_disabled_module_records_and_sends_nothing)
{
    net::io_context ioc;
    webhook_module m(ioc.get_executor(), std::nullopt);
    BOOST_TEST(!m.enabled());
    event_record e;
    e.event_type = "x";
    e.home_id = 5;
    m.deliver(e);
    BOOST_TEST(m.deliveries().empty());
    BOOST_TEST(ioc.poll() == 0U); // no work was queued: no call was started
    m.shutdown();
}

BOOST_AUTO_TEST_SUITE_END()
