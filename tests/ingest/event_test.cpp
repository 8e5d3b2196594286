#include "event.hpp"

#include "common/mode/event.hpp"
#include "common/crypto/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(event)

BOOST_AUTO_TEST_CASE(a_valid_event)
{
    std::string body = R"({"homeId":173,"timestamp":"2016-01-04T23:26:09.521Z","eventType":"abc","eventData":{"t":1},)"
                       R"("originDeviceId":260,"originDeviceClass":"thermostat"})";
    std::string why;
    auto e = ingest::parse_event(body, why);
    BOOST_TEST_REQUIRE(e.has_value(), why);
    BOOST_TEST(e->home_id == 173);
    BOOST_TEST(e->event_type == "abc");
    BOOST_TEST(e->body_hash == common::crypto::sha256_hex(body));
    auto live = boost::json::parse(common::mode::live_event_json(42, e->payload)).as_object();
    BOOST_TEST(live.at("type").as_string() == "event");
    BOOST_TEST(live.at("seq").as_int64() == 42);
    BOOST_TEST(live.at("homeId").as_int64() == 173);
    BOOST_TEST(live.at("eventType").as_string() == "abc");
    BOOST_TEST(live.at("eventData").at("t").as_int64() == 1);
    BOOST_TEST(live.at("originDeviceId").as_int64() == 260);
    BOOST_TEST(live.at("originDeviceClass").as_string() == "thermostat");
    BOOST_TEST(live.at("timestamp").as_string() == "2016-01-04T23:26:09.521Z");
}

BOOST_AUTO_TEST_CASE(a_body_cannot_forge_our_own_members)
{
    std::string why;
    auto e = ingest::parse_event(R"({"homeId":1,"eventType":"x","seq":999,"type":"member.added"})", why);
    BOOST_TEST_REQUIRE(e.has_value());
    auto live = boost::json::parse(common::mode::live_event_json(7, e->payload)).as_object();
    BOOST_TEST(live.at("seq").as_int64() == 7);
    BOOST_TEST(live.at("type").as_string() == "event");
    BOOST_TEST(common::mode::live_event_json(3, "{}") == R"({"type":"event","seq":3})");
}

BOOST_AUTO_TEST_CASE(redis_channel_names_round_trip)
{
    // webhook-ingest publishes on these names and the gateway subscribes by them: one definition.
    BOOST_TEST(common::mode::home_channel(173) == "mb:home:173");
    BOOST_TEST(common::mode::home_of_channel(common::mode::home_channel(173)).value_or(0) == 173);
    BOOST_TEST(common::mode::user_channel("abc") == "mb:user:abc");
    for (const char* other : {"mb:user:173", "mb:home:", "mb:home:17x", "mb:sessions", "xmb:home:1"})
        BOOST_TEST(!common::mode::home_of_channel(other).has_value(), other);
}

BOOST_AUTO_TEST_CASE(invalid_events)
{
    for (std::string bad : {"", "not json", "[1,2]", "42", R"({"homeId":1})", R"({"eventType":"x"})",
                            R"({"homeId":"1","eventType":"x"})", R"({"homeId":1.5,"eventType":"x"})",
                            R"({"homeId":1,"eventType":7})", R"({"homeId":1,"eventType":""})",
                            R"({"homeId":1,"eventType":"x","eventData":[1]})", R"({"homeId":1,"eventType":"x"}trailing)"}) {
        BOOST_TEST_CONTEXT(bad)
        {
            std::string why;
            BOOST_TEST(!ingest::parse_event(bad, why).has_value());
            BOOST_TEST(!why.empty());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
