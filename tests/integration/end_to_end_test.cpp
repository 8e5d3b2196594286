// The whole path: a device emits an event in the MODE emulator, its Webhooks Smart Module calls
// webhook-ingest (signed), the event is stored and published on Redis, and the gateway shows it.
#include "support/account_flow.hpp"
#include "support/stack.hpp"
#include "support/ws_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <thread>

using namespace common::aliases;

namespace end_to_end {

struct deployment
{
    deployment()
        : hook_port(test::free_port())
        , hook_url("http://127.0.0.1:" + std::to_string(hook_port) + "/v1/mode/events")
        , ingest(test::start_ingest(db.url(), {{"MB_LISTEN", "127.0.0.1:" + std::to_string(hook_port)},
                                               {"MB_WEBHOOK_URL", hook_url},
                                               {"MB_WEBHOOK_KEY", "e2e-key"}}))
        , sim(test::start_mode_sim({{"MODESIM_WEBHOOK_URL", hook_url},
                                    {"MODESIM_WEBHOOK_KEY", "e2e-key"},
                                    {"MODESIM_WEBHOOK_RETRY_MIN", "200ms"},
                                    {"MODESIM_WEBHOOK_RETRY_MAX", "1s"}}))
        , gw(test::start_gateway(db.url(), sim.base_url()))
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

    test::scratch_database db;
    unsigned short hook_port;
    std::string hook_url;
    test::running_service ingest;
    test::running_service sim;
    test::running_service gw;
};

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
    test::process::options o;
    o.argv = {"redis-cli", "-u", test::redis_url(), "--csv", "SUBSCRIBE", "mb:home:" + std::to_string(s.home)};
    test::process sub(std::move(o));
    BOOST_REQUIRE(sub.wait_for_output("subscribe", std::chrono::seconds(10)));

    emit(s, "temperature", 21);
    BOOST_TEST_REQUIRE(sub.wait_for_output("temperature", std::chrono::seconds(15)), sub.output());
    auto out = sub.output();
    BOOST_TEST(out.find("\\\"seq\\\":") != std::string::npos);
    BOOST_TEST(out.find("\\\"originDeviceId\\\":" + std::to_string(s.device)) != std::string::npos);

    BOOST_TEST(end_to_end::stored(db.url(), s.home) == 1);
    auto history = call(http::verb::get, "/v1/homes/" + std::to_string(s.home) + "/events", s.token).json();
    auto events = history.at("events").as_array();
    BOOST_TEST_REQUIRE(events.size() == 1U);
    BOOST_TEST(events[0].at("eventType").as_string() == "temperature");
    BOOST_TEST(events[0].at("originDeviceId").as_int64() == s.device);
    BOOST_TEST(events[0].at("originDeviceClass").as_string() == "thermostat");
    BOOST_TEST(events[0].at("eventData").at("n").as_int64() == 21);

    auto hooks = test::http_call(sim.port, http::verb::get, "/_sim/webhooks").json().as_array();
    BOOST_TEST_REQUIRE(hooks.size() == 1U);
    BOOST_TEST(hooks[0].at("state").as_string() == "delivered");
    BOOST_TEST(hooks[0].at("status").as_int64() == 204);
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
