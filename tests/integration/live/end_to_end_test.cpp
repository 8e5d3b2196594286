// The whole path: a device emits an event in the MODE emulator, its Webhooks Smart Module calls
// webhook-ingest (signed), the event is stored and published on Redis, and the gateway shows it.
#include "support/account_flow.hpp"
#include "support/redis_server.hpp"
#include "support/stack.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <sstream>
#include <thread>

using namespace common::aliases;

namespace end_to_end {

struct deployment
{
    // A Redis of its own: the emulator numbers its homes from 1, and the channels of a shared Redis would
    // carry other tests' events of the same home ids to this gateway.
    deployment()
        : redis_url("redis://127.0.0.1:" + std::to_string(redis.port()))
        , hook_port(test::free_port())
        , hook_url("http://127.0.0.1:" + std::to_string(hook_port) + "/v1/mode/events")
        , ingest(test::start_ingest(db.url(), {{"MB_LISTEN", "127.0.0.1:" + std::to_string(hook_port)},
                                               {"MB_WEBHOOK_URL", hook_url},
                                               {"MB_WEBHOOK_KEY", "e2e-key"},
                                               {"MB_REDIS_URL", redis_url}}))
        , sim(test::start_mode_sim({{"MODESIM_WEBHOOK_URL", hook_url},
                                    {"MODESIM_WEBHOOK_KEY", "e2e-key"},
                                    {"MODESIM_WEBHOOK_RETRY_MIN", "200ms"},
                                    {"MODESIM_WEBHOOK_RETRY_MAX", "1s"}}))
        , gw(test::start_gateway(db.url(), sim.base_url(), {{"MB_REDIS_URL", redis_url}}))
    {
    }

    test::http_result call(http::verb m, const std::string& path, const std::string& token, json::object body = {})
    {
        return test::http_call(gw.port, m, path, body.empty() ? std::string() : json::serialize(body),
                               {{"Authorization", "Bearer " + token}});
    }

    // A signed-in user with a home and a claimed device: {token, home id, device id, device key}.
    struct setup
    {
        std::string token;
        std::int64_t home = 0, device = 0;
        std::string device_key;
    };
    setup user_home_device()
    {
        setup s;
        s.token = test::verified_login(gw, test::unique_email("e2e"));
        s.home = call(http::verb::post, "/v1/homes", s.token, {{"name", "Home"}}).json().at("id").as_int64();
        auto dev = test::http_call(sim.port, http::verb::post, "/_sim/devices", R"({"deviceClass":"thermostat"})").json();
        s.device = dev.at("id").as_int64();
        s.device_key = std::string(dev.at("apiKey").as_string());
        test::http_call(sim.port, http::verb::post, "/deviceRegistration", R"({"claimable":true,"duration":600})",
                        {{"Authorization", "ModeCloud " + s.device_key}});
        auto claimed = call(http::verb::post, "/v1/homes/" + std::to_string(s.home) + "/devices", s.token,
                            {{"claimCode", dev.at("claimCode")}});
        BOOST_REQUIRE_MESSAGE(claimed.status == 201U, claimed);
        return s;
    }

    void emit(const setup& s, const std::string& type, int n)
    {
        auto r = test::http_call(sim.port, http::verb::put, "/devices/" + std::to_string(s.device) + "/event",
                                 json::serialize(json::object{{"eventType", type}, {"eventData", {{"n", n}}}}),
                                 {{"Authorization", "ModeCloud " + s.device_key}});
        BOOST_REQUIRE_MESSAGE(r.status == 204U, r);
    }

    test::redis_server redis;
    std::string redis_url;
    test::scratch_database db;
    unsigned short hook_port;
    std::string hook_url;
    test::running_service ingest;
    test::running_service sim;
    test::running_service gw;
};

json::object next(test::ws_client& ws)
{
    auto m = ws.read(std::chrono::seconds(15));
    BOOST_REQUIRE_MESSAGE(m.has_value(), "no message on the live stream within 15 s");
    return json::parse(*m).as_object();
}

int stored(const std::string& db_url, std::int64_t home)
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    return tx.exec_params1("SELECT count(*) FROM events WHERE home_id = $1", home)[0].as<int>();
}

} // namespace end_to_end

BOOST_AUTO_TEST_SUITE(end_to_end)

BOOST_FIXTURE_TEST_CASE(a_device_event_reaches_the_store_redis_and_the_gateway, end_to_end::deployment)
{
    auto s = user_home_device();
    // Listening before the event: a Redis subscriber on the home's channel, and the home's member on the
    // gateway's live stream, caught up (nothing stored yet) and following the home.
    test::process::options o;
    o.argv = {"redis-cli", "-u", redis_url, "--raw", "SUBSCRIBE", "mb:home:" + std::to_string(s.home)};
    test::process sub(std::move(o));
    BOOST_REQUIRE(sub.wait_for_output("subscribe", std::chrono::seconds(10)));
    test::ws_client ws(gw.port, "/v1/events", {{"Authorization", "Bearer " + s.token}});
    auto ready = end_to_end::next(ws);
    BOOST_TEST_REQUIRE(ready.at("type").as_string() == "ready", json::serialize(ready));
    BOOST_TEST(ready.at("homes") == json::value(json::array{s.home}), json::serialize(ready));

    emit(s, "temperature", 21);

    // The gateway hands it to the member's stream.
    auto frame = end_to_end::next(ws);
    BOOST_TEST_MESSAGE("frame: " << json::serialize(frame));
    BOOST_TEST_REQUIRE(frame.at("type").as_string() == "event");
    BOOST_TEST(frame.at("homeId").as_int64() == s.home);
    BOOST_TEST(frame.at("eventType").as_string() == "temperature");
    BOOST_TEST(frame.at("eventData") == json::value(json::object{{"n", 21}}));
    BOOST_TEST(frame.at("originDeviceId").as_int64() == s.device);
    BOOST_TEST(frame.at("originDeviceClass").as_string() == "thermostat");

    // With the seq the store gave the event, and the payload the emulator delivered for the device.
    std::int64_t stored_seq = 0;
    json::object stored_payload;
    {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        auto rows = tx.exec_params("SELECT seq, payload FROM events WHERE home_id = $1", s.home);
        BOOST_TEST_REQUIRE(rows.size() == 1U);
        stored_seq = rows[0][0].as<std::int64_t>();
        stored_payload = json::parse(rows[0][1].as<std::string>()).as_object();
    }
    BOOST_TEST(frame.at("seq").as_int64() == stored_seq);
    json::array hooks;
    BOOST_TEST_REQUIRE(test::eventually(
        [&] {
            hooks = test::http_call(sim.port, http::verb::get, "/_sim/webhooks").json().as_array();
            return hooks.size() == 1U && hooks[0].at("state").as_string() == "delivered";
        },
        std::chrono::seconds(15)));
    BOOST_TEST(hooks[0].at("status").as_int64() == 204);
    auto delivered = json::parse(hooks[0].at("body").as_string()).as_object();
    json::object carried = frame;
    carried.erase("type");
    carried.erase("seq");
    BOOST_TEST(carried == delivered, "the stream carried " << json::serialize(carried) << ", the device emitted "
                                                          << json::serialize(delivered));
    BOOST_TEST(stored_payload == delivered, "the store holds " << json::serialize(stored_payload));

    // Redis carried the same message, once.
    const bool on_channel = sub.wait_for_output("temperature", std::chrono::seconds(15));
    BOOST_TEST_REQUIRE(on_channel, sub.output());
    std::vector<json::object> on_redis;
    {
        std::istringstream lines(sub.output());
        for (std::string line; std::getline(lines, line);)
            if (!line.empty() && line.front() == '{')
                on_redis.push_back(json::parse(line).as_object());
    }
    BOOST_TEST_REQUIRE(on_redis.size() == 1U, sub.output());
    BOOST_TEST(on_redis[0] == frame, "Redis carried " << json::serialize(on_redis[0]));

    // The history shows it with the same seq and payload.
    auto history = call(http::verb::get, "/v1/homes/" + std::to_string(s.home) + "/events", s.token);
    BOOST_TEST_REQUIRE(history.status == 200U, history);
    auto events = history.json().at("events").as_array();
    BOOST_TEST_REQUIRE(events.size() == 1U);
    BOOST_TEST(events[0].as_object() == frame, "the history shows " << json::serialize(events[0]));

    // And the stream sends it once.
    BOOST_TEST(!ws.read(std::chrono::milliseconds(500)).has_value(), "the event came twice");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(outages)

BOOST_AUTO_TEST_CASE(postgres_down_then_the_emulators_retry_lands_the_event)
{
    end_to_end::deployment d;
    auto s = d.user_home_device();
    {
        struct restart
        {
            ~restart()
            {
                try {
                    test::stack_ctl("start-pg");
                } catch (const std::exception&) {
                }
            }
        } guard;
        test::stack_ctl("stop-pg");
        d.emit(s, "alarm", 1);
        // The ingest answers 503 and the emulator keeps the event pending.
        json::value hook;
        for (int i = 0; i < 100; ++i) {
            auto hooks = test::http_call(d.sim.port, http::verb::get, "/_sim/webhooks").json();
            if (!hooks.as_array().empty() && hooks.as_array()[0].at("status") == json::value(503)) {
                hook = hooks.as_array()[0];
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        BOOST_TEST_REQUIRE(hook.is_object(), "no 503 seen by the emulator");
        BOOST_TEST(hook.at("state").as_string() == "pending");
        test::stack_ctl("start-pg");
    }
    json::value hook;
    for (int i = 0; i < 150; ++i) {
        hook = test::http_call(d.sim.port, http::verb::get, "/_sim/webhooks").json().as_array()[0];
        if (hook.at("state").as_string() == "delivered")
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(hook.at("state").as_string() == "delivered", hook);
    BOOST_TEST(hook.at("attempts").as_int64() >= 2);
    BOOST_TEST(end_to_end::stored(d.db.url(), s.home) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
