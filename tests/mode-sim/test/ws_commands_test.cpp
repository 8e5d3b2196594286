// The device command channel over a real websocket: connection state, command delivery, who may connect.

#include "sim_fixture.hpp"

#include "support/ws_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace modesim_test;
using http::verb;
namespace json = boost::json;

namespace {

/** "<status> <reason>" of a refused handshake, or "connected". */
std::string refusal_of(unsigned short port, const std::string& target, const test::header_list& headers)
{
    try {
        test::ws_client c(port, target, headers);
    } catch (const test::ws_handshake_error& e) {
        std::string out = std::to_string(e.status());
        try {
            out += " " + std::string(json::parse(e.body()).at("reason").as_string());
        } catch (const std::exception&) {
            // No MODE error body: the status says it all.
        }
        return out;
    }
    return "connected";
}

/** The household with a lamp claimed into Ann's home. */
struct with_lamp : household
{
    json::object lamp = sim.provision_device("lamp");
    std::int64_t lamp_id = lamp.at("id").as_int64();
    std::string lamp_key = std::string(lamp.at("apiKey").as_string());

    with_lamp() { sim.claim(lamp, home, ann_key); }

    std::string channel() const { return "/devices/" + std::to_string(lamp_id) + "/command"; }
    test::header_list auth(const std::string& key) const { return {{"Authorization", "ModeCloud " + key}}; }
    json::object device()
    {
        return sim.call(verb::get, "/devices/" + std::to_string(lamp_id), "", ann_key).json().as_object();
    }
    bool connected() { return device().at("isConnected").as_bool(); }
    std::size_t channels() { return sim.sim().model().counts().command_channels; }
    http_result command(const json::object& cmd, const std::string& key)
    {
        return sim.call(verb::put, channel(), cmd, key);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_ws_commands)

BOOST_FIXTURE_TEST_CASE(a_device_connects_with_its_key, with_lamp)
{
    BOOST_TEST(!connected());
    BOOST_TEST(!device().contains("lastConnectTime"));
    test::ws_client by_header(sim.port(), channel(), auth(lamp_key));
    BOOST_TEST(eventually([&] { return connected(); }));
    BOOST_TEST(device().at("lastConnectTime").is_string());
    // The query parameter works as well, and a second channel may be open at once.
    test::ws_client by_query(sim.port(), channel() + "?authToken=" + lamp_key);
    BOOST_TEST(eventually([&] { return channels() == 2U; }));
}

BOOST_FIXTURE_TEST_CASE(a_command_arrives_on_the_device_socket_exactly_as_sent, with_lamp)
{
    test::ws_client first(sim.port(), channel(), auth(lamp_key));
    test::ws_client second(sim.port(), channel() + "?authToken=" + lamp_key);
    BOOST_REQUIRE(eventually([&] { return channels() == 2U; }));

    json::object cmd{{"action", "switch"}, {"parameters", {{"on", true}, {"level", 3}, {"scene", "evening"}}}};
    auto sent = command(cmd, ann_key);
    BOOST_REQUIRE_MESSAGE(sent.status == 204, sent);
    for (auto* c : {&first, &second}) {
        auto frame = c->read();
        BOOST_REQUIRE(frame.has_value());
        BOOST_TEST(json::parse(*frame) == json::value(cmd), *frame);
    }
    // A command without parameters arrives with an empty object; the project key may command too.
    BOOST_TEST(command(json::object{{"action", "off"}}, byou_key).status == 204U);
    BOOST_TEST(json::parse(first.read().value_or("null")) == json::parse(R"({"action":"off","parameters":{}})"));
    auto log = sim.call(verb::get, "/_sim/devices/" + std::to_string(lamp_id) + "/commands").json().as_array();
    BOOST_REQUIRE(log.size() == 2U);
    BOOST_TEST(log[0] == json::value(cmd));
}

BOOST_FIXTURE_TEST_CASE(a_command_with_no_connection_is_409, with_lamp)
{
    json::object cmd{{"action", "switch"}};
    BOOST_TEST(error_of(command(cmd, ann_key)) == "409 DEVICE_OFFLINE");
    BOOST_TEST(sim.call(verb::get, "/_sim/devices/" + std::to_string(lamp_id) + "/commands").json().as_array().empty());
}

BOOST_FIXTURE_TEST_CASE(disconnecting_marks_the_device_offline, with_lamp)
{
    {
        test::ws_client c(sim.port(), channel(), auth(lamp_key));
        BOOST_REQUIRE(eventually([&] { return connected(); }));
        BOOST_TEST(!device().contains("lastDisconnectTime"));
        c.close();
    }
    BOOST_TEST(eventually([&] { return !connected(); }));
    BOOST_TEST(device().at("lastDisconnectTime").is_string());
    BOOST_TEST(error_of(command(json::object{{"action", "switch"}}, ann_key)) == "409 DEVICE_OFFLINE");
    // A dropped connection (no close frame) counts the same.
    {
        test::ws_client c(sim.port(), channel(), auth(lamp_key));
        BOOST_REQUIRE(eventually([&] { return connected(); }));
    }
    BOOST_TEST(eventually([&] { return !connected(); }));
}

BOOST_FIXTURE_TEST_CASE(only_the_device_key_may_open_its_channel, with_lamp)
{
    auto other = sim.provision_device("sensor");
    std::string other_key(other.at("apiKey").as_string());
    BOOST_TEST(refusal_of(sim.port(), channel(), auth(other_key)) == "403 PERMISSION_DENIED");
    BOOST_TEST(refusal_of(sim.port(), channel(), auth(ann_key)) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(refusal_of(sim.port(), channel(), auth(byou_key)) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(refusal_of(sim.port(), channel(), auth("no-such-key")) == "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(refusal_of(sim.port(), channel() + "?authToken=no-such-key", {}) == "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(refusal_of(sim.port(), channel(), {}) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(refusal_of(sim.port(), channel(), {{"Authorization", "Bearer " + lamp_key}}) ==
               "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(!connected());
    BOOST_TEST(channels() == 0U);
    // Without the upgrade, the channel is not a REST resource.
    BOOST_TEST(error_of(sim.call(verb::get, channel(), "", lamp_key)) == "426 UPGRADE_REQUIRED");
}

BOOST_FIXTURE_TEST_CASE(reset_closes_the_channels, with_lamp)
{
    test::ws_client c(sim.port(), channel(), auth(lamp_key));
    BOOST_REQUIRE(eventually([&] { return channels() == 1U; }));
    BOOST_TEST(sim.call(verb::post, "/_sim/reset").status == 204U);
    BOOST_TEST(c.wait_closed());
    BOOST_TEST(c.closed_with().value_or(0) == 1008);
    BOOST_TEST(eventually([&] { return channels() == 0U; }));
}

BOOST_AUTO_TEST_SUITE_END()
