// Devices over real HTTP: provisioning, claim mode, claiming, access, commands, events.

#include "sim_fixture.hpp"

#include <boost/test/unit_test.hpp>

using namespace modesim_test;
using http::verb;
namespace json = boost::json;

namespace {

std::string device_path(std::int64_t d, const std::string& rest = "")
{
    return "/devices/" + std::to_string(d) + rest;
}

/** The household, and Bob owns another home; one lamp is provisioned (not yet claimed). */
struct setup : household
{
    std::int64_t bob_home = sim.create_home(bob_key, "Other");
    json::object lamp = sim.provision_device("lamp");
    std::int64_t lamp_id = lamp.at("id").as_int64();
    std::string lamp_key = std::string(lamp.at("apiKey").as_string());

    http_result claim(const std::string& key, std::int64_t into, const json::value& code)
    {
        return sim.call(verb::post, "/devices", json::object{{"homeId", into}, {"claimCode", code}}, key);
    }
    http_result register_lamp()
    {
        return sim.call(verb::post, "/deviceRegistration", json::object{{"claimable", true}, {"duration", 600}}, lamp_key);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_http_devices)

BOOST_FIXTURE_TEST_CASE(provision_register_and_claim, setup)
{
    BOOST_TEST(!lamp.at("claimCode").as_string().empty());
    BOOST_TEST(error_of(claim(ann_key, home, lamp.at("claimCode"))) == "403 DEVICE_NOT_CLAIMABLE");

    auto reg = register_lamp();
    BOOST_REQUIRE_MESSAGE(reg.status == 200, reg);
    BOOST_TEST(reg.json().at("claimExpirationTime").is_string());
    BOOST_TEST(error_of(sim.call(verb::post, "/deviceRegistration", json::object{{"claimable", true}}, ann_key)) ==
               "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of(sim.call(verb::post, "/deviceRegistration", json::object{{"duration", 5}}, lamp_key)) ==
               "403 INVALID_INPUT");

    BOOST_TEST(error_of(claim(ann_key, home, json::value("NOPE1234"))) == "403 DEVICE_NOT_CLAIMABLE");
    BOOST_TEST(error_of(claim(ann_key, bob_home, lamp.at("claimCode"))) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of(claim(byou_key, home, lamp.at("claimCode"))) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of(claim(ann_key, 999999, lamp.at("claimCode"))) == "404 HOME_NOT_FOUND");

    auto claimed = claim(ann_key, home, lamp.at("claimCode"));
    BOOST_REQUIRE_MESSAGE(claimed.status == 201, claimed);
    BOOST_TEST(claimed.header("Location") == device_path(lamp_id));
    auto d = claimed.json().as_object();
    BOOST_TEST(d.at("id").as_int64() == lamp_id);
    BOOST_TEST(d.at("homeId").as_int64() == home);
    BOOST_TEST(d.at("deviceClass").as_string() == "lamp");
    BOOST_TEST(d.at("projectId").as_int64() == project_id);
    BOOST_TEST(d.at("isConnected").as_bool() == false);
    BOOST_TEST(d.at("claimTime").is_string());
    BOOST_TEST(!d.contains("claimExpirationTime")); // claimed: out of claim mode

    BOOST_REQUIRE(register_lamp().status == 200U);
    BOOST_TEST(error_of(claim(bob_key, bob_home, lamp.at("claimCode"))) == "409 DEVICE_ALREADY_IN_HOME");

    auto list = sim.call(verb::get, "/devices?homeId=" + std::to_string(home), "", ann_key);
    BOOST_REQUIRE_MESSAGE(list.status == 200, list);
    BOOST_REQUIRE(list.json().as_array().size() == 1U);
    BOOST_TEST(list.header("vnd.tinkermode.range") == "0-0/1");
    BOOST_TEST(error_of(sim.call(verb::get, "/devices", "", ann_key)) == "403 INVALID_INPUT");
    BOOST_TEST(sim.call(verb::get, "/devices", "", byou_key).json().as_array().size() == 1U);
}

BOOST_FIXTURE_TEST_CASE(who_may_see_a_device, setup)
{
    BOOST_TEST(error_of(sim.call(verb::get, device_path(lamp_id), "", ann_key)) == "404 DEVICE_NOT_FOUND"); // no home yet
    sim.claim(lamp, home, ann_key);
    BOOST_TEST(sim.call(verb::get, device_path(lamp_id), "", ann_key).status == 200U);
    BOOST_TEST(sim.call(verb::get, device_path(lamp_id), "", plain_key).status == 200U);
    BOOST_TEST(sim.call(verb::get, device_path(lamp_id), "", lamp_key).status == 200U);
    BOOST_TEST(error_of(sim.call(verb::get, device_path(lamp_id), "", bob_key)) == "403 MEMBERS_ONLY");
    auto other = sim.provision_device("sensor");
    BOOST_TEST(error_of(sim.call(verb::get, device_path(lamp_id), "", std::string(other.at("apiKey").as_string()))) ==
               "403 PERMISSION_DENIED");
    BOOST_TEST(error_of(sim.call(verb::get, device_path(999999), "", byou_key)) == "404 DEVICE_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(patch_and_remove_from_home, setup)
{
    sim.claim(lamp, home, ann_key);
    BOOST_TEST(sim.call(verb::patch, device_path(lamp_id), json::object{{"name", "Desk"}, {"tag", "t1"}}, ann_key).status ==
               204U);
    auto d = sim.call(verb::get, device_path(lamp_id), "", ann_key).json();
    BOOST_TEST(d.at("name").as_string() == "Desk");
    BOOST_TEST(d.at("tag").as_string() == "t1");
    BOOST_TEST(error_of(sim.call(verb::patch, device_path(lamp_id), json::object{{"name", "X"}}, lamp_key)) ==
               "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of(sim.call(verb::delete_, device_path(lamp_id), "", bob_key)) == "403 MEMBERS_ONLY");
    BOOST_TEST(sim.call(verb::delete_, device_path(lamp_id), "", ann_key).status == 204U);
    BOOST_TEST(error_of(sim.call(verb::get, device_path(lamp_id), "", ann_key)) == "404 DEVICE_NOT_FOUND");
    BOOST_TEST(!sim.call(verb::get, device_path(lamp_id), "", byou_key).json().as_object().contains("homeId"));
}

BOOST_FIXTURE_TEST_CASE(commands_need_a_connected_device, setup)
{
    sim.claim(lamp, home, ann_key);
    json::object cmd{{"action", "switch"}, {"parameters", {{"on", true}}}};
    BOOST_TEST(error_of(sim.call(verb::put, device_path(lamp_id, "/command"), cmd, ann_key)) == "409 DEVICE_OFFLINE");
    BOOST_TEST(sim.call(verb::put, "/_sim/devices/" + std::to_string(lamp_id) + "/connection",
                        json::object{{"connected", true}}, "")
                   .status == 204U);
    BOOST_TEST(sim.call(verb::get, device_path(lamp_id), "", ann_key).json().at("isConnected").as_bool());
    BOOST_TEST(sim.call(verb::put, device_path(lamp_id, "/command"), cmd, ann_key).status == 204U);
    BOOST_TEST(sim.call(verb::put, device_path(lamp_id, "/command"), json::object{{"action", "off"}}, byou_key).status ==
               204U);
    BOOST_TEST(error_of(sim.call(verb::put, device_path(lamp_id, "/command"), cmd, bob_key)) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of(sim.call(verb::put, device_path(lamp_id, "/command"), json::object{{"parameters", {}}}, ann_key)) ==
               "403 INVALID_INPUT");
    auto sent = sim.call(verb::get, "/_sim/devices/" + std::to_string(lamp_id) + "/commands");
    BOOST_REQUIRE_MESSAGE(sent.status == 200, sent);
    auto arr = sent.json().as_array();
    BOOST_REQUIRE(arr.size() == 2U);
    BOOST_TEST(arr[0].at("action").as_string() == "switch");
    BOOST_TEST(arr[0].at("parameters").at("on").as_bool());
    BOOST_TEST(arr[1].at("action").as_string() == "off");
    BOOST_TEST(arr[1].at("parameters").as_object().empty());
    BOOST_TEST(error_of(sim.call(verb::get, "/_sim/devices/999999/commands")) == "404 DEVICE_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(events_from_the_device_key, setup)
{
    sim.claim(lamp, home, ann_key);
    json::object ev{{"eventType", "motion"}, {"eventData", {{"level", 3}}}};
    BOOST_TEST(sim.call(verb::put, device_path(lamp_id, "/event"), ev, lamp_key).status == 204U);
    BOOST_TEST(error_of(sim.call(verb::put, device_path(lamp_id, "/event"), ev, ann_key)) == "403 INSUFFICIENT_AUTH");
    auto other = sim.provision_device("sensor");
    BOOST_TEST(error_of(sim.call(verb::put, device_path(lamp_id, "/event"), ev,
                                 std::string(other.at("apiKey").as_string()))) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of(sim.call(verb::put, device_path(lamp_id, "/event"),
                                 json::object{{"eventType", "x"}, {"eventData", json::array{1}}}, lamp_key)) ==
               "403 INVALID_INPUT");
    auto events = sim.call(verb::get, "/_sim/events").json().as_array();
    BOOST_REQUIRE(events.size() == 1U);
    auto e = events[0].as_object();
    BOOST_TEST(e.at("eventType").as_string() == "motion");
    BOOST_TEST(e.at("eventData").at("level").as_int64() == 3);
    BOOST_TEST(e.at("homeId").as_int64() == home);
    BOOST_TEST(e.at("originDeviceId").as_int64() == lamp_id);
    BOOST_TEST(e.at("originDeviceClass").as_string() == "lamp");
    BOOST_TEST(e.at("originDeviceIp").as_string() == "127.0.0.1");
    BOOST_TEST(e.at("timestamp").is_string());
}

BOOST_AUTO_TEST_SUITE_END()
