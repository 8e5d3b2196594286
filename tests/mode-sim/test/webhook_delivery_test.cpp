// The Webhooks Smart Module end to end: an emulator in-process POSTs device events to a receiver in the
// test, which records them and answers from a script. Every wait is bounded (`eventually`, 10 s).

#include "sim_fixture.hpp"
#include "webhook_receiver.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

using namespace modesim_test;
using namespace std::chrono_literals;
using http::verb;
namespace json = boost::json;

namespace {

constexpr const char* hook_key = "whk-test-key";

/** Test settings with the webhook at `url` and short retries (tests may change them). */
modesim::settings hook_settings(const std::string& url)
{
    auto s = test_settings(2);
    s.webhook_url = url;
    s.webhook_key = hook_key;
    s.webhook_timeout = 5s;
    s.webhook_retry_min = 50ms;
    s.webhook_retry_max = 200ms;
    s.webhook_give_up = 60s;
    return s;
}

/** Ann's home with a lamp and a sensor in it, on an emulator with the given settings. */
struct home_with_devices
{
    explicit home_with_devices(modesim::settings s)
        : sim(std::move(s))
    {
        sim.claim(lamp, home, ann_key);
        sim.claim(sensor, home, ann_key);
    }

    running_sim sim;
    std::int64_t ann = sim.create_user("Ann");
    std::string ann_key = sim.user_key(ann);
    std::int64_t home = sim.create_home(ann_key, "Flat");
    json::object lamp = sim.provision_device("lamp");
    json::object sensor = sim.provision_device("sensor");

    void emit(const json::object& device, const std::string& event_type, json::object data = {})
    {
        sim.emit_event(device, {{"eventType", event_type}, {"eventData", std::move(data)}});
    }
    json::array deliveries() const
    {
        auto r = sim.call(verb::get, "/_sim/webhooks");
        BOOST_REQUIRE_MESSAGE(r.status == 200, r);
        return r.json().as_array();
    }
    /** The recorded delivery of the event of this type (null when none). */
    json::object delivery(const std::string& event_type) const
    {
        for (const auto& d : deliveries())
            if (d.at("eventType").as_string() == event_type)
                return d.as_object();
        return {};
    }
    bool reaches(const std::string& event_type, const std::string& state) const
    {
        return eventually([&] {
            auto d = delivery(event_type);
            return !d.empty() && d.at("state").as_string() == state;
        });
    }
    json::object stats() const { return sim.call(verb::get, "/_sim/stats").json().as_object(); }
};

std::int64_t origin_of(const received_request& r)
{
    return json::parse(r.body).at("originDeviceId").as_int64();
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_webhooks)

BOOST_AUTO_TEST_CASE(a_device_event_is_posted_once_signed)
{
    webhook_receiver rx;
    // A query in the URL: the signature covers the URL exactly as configured.
    const std::string url = rx.url("/hooks/mode?project=7");
    home_with_devices h(hook_settings(url));
    h.emit(h.lamp, "motion", {{"level", 3}});
    BOOST_REQUIRE(h.reaches("motion", "delivered"));
    BOOST_REQUIRE_EQUAL(rx.count(), 1U);
    auto got = rx.requests().at(0);
    BOOST_TEST(got.method == "POST");
    BOOST_TEST(got.target == "/hooks/mode?project=7");
    BOOST_TEST(got.content_type == "application/json");
    BOOST_TEST(got.module_id == "webhooks");
    BOOST_TEST(got.project_id == std::to_string(project_id));
    BOOST_TEST(got.signature == reference_hmac_hex(hook_key, url + got.body));
    // The body is the event as delivered, as /_sim/events recorded it, compact with no trailing newline.
    auto events = h.sim.call(verb::get, "/_sim/events").json().as_array();
    BOOST_REQUIRE_EQUAL(events.size(), 1U);
    BOOST_TEST(got.body == json::serialize(events.at(0)));
    auto body = json::parse(got.body).as_object();
    BOOST_TEST(body.at("homeId").as_int64() == h.home);
    BOOST_TEST(body.at("eventType").as_string() == "motion");
    BOOST_TEST(body.at("eventData") == json::parse(R"({"level":3})"));
    BOOST_TEST(body.at("originDeviceId").as_int64() == h.lamp.at("id").as_int64());
    BOOST_TEST(body.at("originDeviceClass").as_string() == "lamp");
    BOOST_TEST(body.at("timestamp").is_string());

    auto d = h.delivery("motion");
    BOOST_TEST(d.at("id").is_number());
    BOOST_TEST(d.at("homeId").as_int64() == h.home);
    BOOST_TEST(d.at("url").as_string() == url);
    BOOST_TEST(d.at("status").as_int64() == 204);
    BOOST_TEST(d.at("attempts").as_int64() == 1);
    BOOST_TEST(d.at("lastError").is_null());
    BOOST_TEST(d.at("body").as_string() == got.body);
    BOOST_TEST(h.stats().at("webhooksDelivered").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(a_5xx_is_retried_with_backoff_until_delivered)
{
    webhook_receiver rx;
    rx.answer_with({{503}, {503}, {204}});
    auto s = hook_settings(rx.url());
    s.webhook_retry_min = 100ms;
    s.webhook_retry_max = 1s;
    home_with_devices h(s);
    h.emit(h.lamp, "flaky");
    BOOST_REQUIRE(h.reaches("flaky", "delivered"));
    auto d = h.delivery("flaky");
    BOOST_TEST(d.at("attempts").as_int64() == 3);
    BOOST_TEST(d.at("status").as_int64() == 204);
    BOOST_TEST(d.at("lastError").as_string() == "HTTP 503"); // the failures stay visible
    auto got = rx.requests();
    BOOST_REQUIRE_EQUAL(got.size(), 3U);
    // The same bytes and signature every time.
    for (const auto& r : got) {
        BOOST_TEST(r.body == got[0].body);
        BOOST_TEST(r.signature == reference_hmac_hex(hook_key, rx.url() + r.body));
    }
    // Backoff: at least 100 ms before the second attempt, at least 200 ms before the third (timers never
    // fire early, so these lower bounds hold on any machine).
    BOOST_TEST((got[1].arrived - got[0].arrived >= 100ms));
    BOOST_TEST((got[2].arrived - got[1].arrived >= 200ms));
}

BOOST_AUTO_TEST_CASE(a_4xx_is_final_but_408_and_429_are_retried)
{
    webhook_receiver rx;
    auto busy_answers = std::make_shared<std::atomic<int>>(0);
    rx.answer_with([busy_answers](const received_request& r) {
        if (json::parse(r.body).at("eventType").as_string() == "refused")
            return reply{400};
        // "busy": 429, then 408, then accepted.
        int n = (*busy_answers)++;
        return reply{n == 0 ? 429U : n == 1 ? 408U : 204U};
    });
    home_with_devices h(hook_settings(rx.url()));
    h.emit(h.lamp, "refused");
    BOOST_REQUIRE(h.reaches("refused", "failed"));
    auto d = h.delivery("refused");
    BOOST_TEST(d.at("attempts").as_int64() == 1);
    BOOST_TEST(d.at("status").as_int64() == 400);
    BOOST_TEST(d.at("lastError").as_string() == "HTTP 400");

    h.emit(h.sensor, "busy");
    BOOST_REQUIRE(h.reaches("busy", "delivered"));
    BOOST_TEST(h.delivery("busy").at("attempts").as_int64() == 3);
    // Several backoff periods (max 200 ms) later, the refused event was still sent only once.
    std::this_thread::sleep_for(600ms);
    std::size_t refused = 0;
    for (const auto& r : rx.requests())
        refused += json::parse(r.body).at("eventType").as_string() == "refused" ? 1U : 0U;
    BOOST_TEST(refused == 1U);
    BOOST_TEST(h.delivery("refused").at("attempts").as_int64() == 1);
    auto st = h.stats();
    BOOST_TEST(st.at("webhooksFailed").as_int64() == 1);
    BOOST_TEST(st.at("webhooksDelivered").as_int64() == 1);
    BOOST_TEST(st.at("webhooksPending").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(retries_stop_once_the_give_up_time_has_passed)
{
    webhook_receiver rx;
    rx.answer_with({}, reply{503});
    auto s = hook_settings(rx.url());
    s.webhook_give_up = 300ms; // backoff 50, 100, 200, 200 ms ...: a few attempts, then no more
    home_with_devices h(s);
    h.emit(h.lamp, "hopeless");
    BOOST_REQUIRE(h.reaches("hopeless", "failed"));
    auto d = h.delivery("hopeless");
    BOOST_TEST(std::string(d.at("lastError").as_string()).starts_with("gave up after"), d.at("lastError"));
    BOOST_TEST(d.at("status").as_int64() == 503);
    BOOST_TEST(d.at("attempts").as_int64() >= 2);
    BOOST_TEST(rx.count() == static_cast<std::size_t>(d.at("attempts").as_int64()));
    BOOST_TEST(h.stats().at("webhooksFailed").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(an_unanswered_attempt_times_out_and_is_retried)
{
    webhook_receiver rx;
    rx.answer_with({reply{204, true}}); // the first request is never answered; the next gets 204
    auto s = hook_settings(rx.url());
    s.webhook_timeout = 500ms;
    home_with_devices h(s);
    h.emit(h.lamp, "slow");
    BOOST_REQUIRE(h.reaches("slow", "delivered"));
    auto d = h.delivery("slow");
    // Two attempts, unless a loaded machine made the second one time out as well.
    BOOST_TEST(d.at("attempts").as_int64() >= 2);
    BOOST_TEST(rx.count() == static_cast<std::size_t>(d.at("attempts").as_int64()));
    BOOST_TEST(d.at("status").as_int64() == 204);
    BOOST_TEST(std::string(d.at("lastError").as_string()).starts_with("timeout:"), d.at("lastError"));
    BOOST_TEST(rx.held() == 1U); // the first is still unanswered: the emulator did not wait for it
}

BOOST_AUTO_TEST_CASE(a_receiver_that_is_down_gets_the_event_once_it_is_up)
{
    reserved_port reserved;
    const auto port = reserved.port();
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hooks/mode";
    home_with_devices h(hook_settings(url));
    h.emit(h.lamp, "early");
    // Refused connections are retried ...
    BOOST_REQUIRE(eventually([&] {
        auto d = h.delivery("early");
        return !d.empty() && d.at("attempts").as_int64() >= 2 && d.at("lastError").is_string();
    }));
    auto d = h.delivery("early");
    BOOST_TEST(d.at("state").as_string() == "pending");
    BOOST_TEST(d.at("status").is_null());
    BOOST_TEST(std::string(d.at("lastError").as_string()).starts_with("unreachable:"), d.at("lastError"));
    // ... until the receiver comes up.
    reserved.release();
    webhook_receiver rx(port);
    BOOST_REQUIRE(h.reaches("early", "delivered"));
    BOOST_REQUIRE_EQUAL(rx.count(), 1U);
    BOOST_TEST(rx.requests().at(0).signature == reference_hmac_hex(hook_key, url + rx.requests().at(0).body));
}

BOOST_AUTO_TEST_CASE(events_of_two_devices_are_delivered_independently)
{
    webhook_receiver rx;
    home_with_devices h(hook_settings(rx.url()));
    const auto lamp_id = h.lamp.at("id").as_int64();
    // The lamp's event is held by the receiver; the sensor's is answered at once.
    rx.answer_with([lamp_id](const received_request& r) { return reply{204, origin_of(r) == lamp_id}; });
    h.emit(h.lamp, "lamp_on");
    BOOST_REQUIRE(eventually([&] { return rx.held() == 1U; }));
    h.emit(h.sensor, "sensor_moved");
    BOOST_REQUIRE(h.reaches("sensor_moved", "delivered"));
    auto lamp = h.delivery("lamp_on");
    BOOST_TEST(lamp.at("state").as_string() == "pending"); // still in flight
    BOOST_TEST(lamp.at("attempts").as_int64() == 1);
    BOOST_TEST(lamp.at("status").is_null());
    rx.release_held();
    BOOST_REQUIRE(h.reaches("lamp_on", "delivered"));
    BOOST_TEST(h.delivery("lamp_on").at("attempts").as_int64() == 1);
    // Oldest first.
    auto all = h.deliveries();
    BOOST_REQUIRE_EQUAL(all.size(), 2U);
    BOOST_TEST(all.at(0).at("eventType").as_string() == "lamp_on");
    BOOST_TEST(all.at(1).at("eventType").as_string() == "sensor_moved");
    BOOST_TEST(all.at(0).at("id").as_int64() < all.at(1).at("id").as_int64());
}

BOOST_AUTO_TEST_CASE(a_device_in_no_home_raises_no_webhook)
{
    webhook_receiver rx;
    home_with_devices h(hook_settings(rx.url()));
    auto loose = h.sim.provision_device("orphan");
    h.emit(loose, "homeless");
    h.emit(h.lamp, "homed"); // raised after: once it is delivered, the first would have been recorded too
    BOOST_REQUIRE(h.reaches("homed", "delivered"));
    auto all = h.deliveries();
    BOOST_REQUIRE_EQUAL(all.size(), 1U);
    BOOST_TEST(all.at(0).at("eventType").as_string() == "homed");
    BOOST_REQUIRE_EQUAL(rx.count(), 1U);
    BOOST_TEST(json::parse(rx.requests().at(0).body).at("eventType").as_string() == "homed");
    // The event itself was recorded all the same.
    BOOST_TEST(h.sim.call(verb::get, "/_sim/events").json().as_array().size() == 2U);
}

BOOST_AUTO_TEST_CASE(the_record_is_cleared_on_delete_and_reset)
{
    webhook_receiver rx;
    home_with_devices h(hook_settings(rx.url()));
    h.emit(h.lamp, "one");
    BOOST_REQUIRE(h.reaches("one", "delivered"));
    BOOST_TEST(h.sim.call(verb::delete_, "/_sim/webhooks").status == 204U);
    BOOST_TEST(h.deliveries().empty());
    BOOST_TEST(h.stats().at("webhooksDelivered").as_int64() == 0);
    h.emit(h.lamp, "two");
    BOOST_REQUIRE(h.reaches("two", "delivered"));
    BOOST_TEST(h.deliveries().size() == 1U);
    BOOST_TEST(h.sim.call(verb::post, "/_sim/reset").status == 204U);
    BOOST_TEST(h.deliveries().empty());
    BOOST_TEST(rx.count() == 2U);
}

BOOST_AUTO_TEST_CASE(shutdown_abandons_pending_retries)
{
    // Both emulators get every attempt refused and retry after 1 s; one is shut down after its first attempt.
    webhook_receiver rx, control_rx;
    rx.answer_with({}, reply{503});
    control_rx.answer_with({}, reply{503});
    auto settings_for = [](const std::string& url) {
        auto s = hook_settings(url);
        s.webhook_retry_min = 1s;
        s.webhook_retry_max = 1s;
        return s;
    };
    home_with_devices h(settings_for(rx.url()));
    home_with_devices control(settings_for(control_rx.url()));
    h.emit(h.lamp, "doomed");
    BOOST_REQUIRE(eventually([&] {
        auto d = h.delivery("doomed");
        return !d.empty() && d.at("status").is_number(); // the first attempt has its answer
    }));
    BOOST_TEST(h.delivery("doomed").at("state").as_string() == "pending");
    BOOST_TEST(h.delivery("doomed").at("status").as_int64() == 503);
    h.sim.sim().webhooks().shutdown();
    BOOST_REQUIRE(h.reaches("doomed", "failed"));
    auto d = h.delivery("doomed");
    BOOST_TEST(std::string(d.at("lastError").as_string()).starts_with("abandoned"), d.at("lastError"));
    // Later events are not delivered.
    h.emit(h.lamp, "after");
    BOOST_TEST(h.deliveries().size() == 1U);

    // The control's first attempt comes after the shut-down one's, so by its second retry (1 s + 1 s later)
    // the abandoned retry, and the later event, would have been sent long since.
    control.emit(control.lamp, "control");
    BOOST_REQUIRE_MESSAGE(eventually([&] { return control_rx.count() >= 3U; }, 20s),
                          "the control emulator did not retry: " << control_rx.count() << " attempt(s)");
    BOOST_TEST(control.delivery("control").at("state").as_string() == "pending");
    BOOST_TEST(rx.count() == 1U, "the shut-down emulator sent " << rx.count() << " request(s)");
    d = h.delivery("doomed");
    BOOST_TEST(d.at("attempts").as_int64() == 1);
    BOOST_TEST(d.at("state").as_string() == "failed");
    BOOST_TEST(h.deliveries().size() == 1U);
    BOOST_TEST(h.stats().at("webhooksPending").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(without_webhook_settings_nothing_is_called)
{
    // A URL without its key is no webhook setting (the emulator refuses it at start from the environment);
    // given only the receiver's URL, the emulator must still call nobody.
    webhook_receiver rx;
    auto s = test_settings(2);
    s.webhook_url = rx.url();
    home_with_devices h(s);
    BOOST_TEST(!h.sim.sim().webhooks().enabled());
    h.emit(h.lamp, "quiet");
    BOOST_TEST(h.sim.call(verb::get, "/_sim/events").json().as_array().size() == 1U);
    BOOST_TEST(h.deliveries().empty());
    auto st = h.stats();
    BOOST_TEST(st.at("webhooksPending").as_int64() == 0);
    BOOST_TEST(st.at("webhooksDelivered").as_int64() == 0);
    // A complete setting on another emulator reaches the same receiver with an event raised after ours:
    // once it is there, ours would have been too.
    home_with_devices control(hook_settings(rx.url()));
    control.emit(control.lamp, "heard");
    BOOST_REQUIRE(control.reaches("heard", "delivered"));
    BOOST_REQUIRE_EQUAL(rx.count(), 1U);
    BOOST_TEST(json::parse(rx.requests().at(0).body).at("eventType").as_string() == "heard");
    BOOST_TEST(h.deliveries().empty());
}

BOOST_AUTO_TEST_SUITE_END()
