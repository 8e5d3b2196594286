// The app event stream over a real websocket: who receives a device's events, and when the stream ends.

#include "sim_fixture.hpp"

#include "support/ws_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace modesim_test;
using namespace std::chrono_literals;
using http::verb;
namespace json = boost::json;

namespace {

/** The household with a lamp in Ann's home; Bob owns another with a sensor; Cy has no home. */
struct neighbours : household
{
    std::string cy_key = sim.user_key(sim.create_user("Cy"));
    std::int64_t bob_home = sim.create_home(bob_key, "House");
    json::object lamp = sim.provision_device("lamp");
    json::object sensor = sim.provision_device("sensor");

    neighbours()
    {
        sim.claim(lamp, home, ann_key);
        sim.claim(sensor, bob_home, bob_key);
    }

    /** Opens `key`'s event stream and waits until the emulator has registered it (as the n-th). */
    std::unique_ptr<test::ws_client> stream(const std::string& key, std::size_t nth)
    {
        auto c = std::make_unique<test::ws_client>(sim.port(), "/userSession/websocket?authToken=" + key);
        BOOST_REQUIRE(eventually([&] { return sim.sim().model().counts().event_streams == nth; }));
        return c;
    }
};

json::object frame_json(const std::optional<std::string>& frame)
{
    BOOST_REQUIRE_MESSAGE(frame.has_value(), "a frame arrived");
    auto v = json::parse(*frame);
    BOOST_REQUIRE(v.is_object());
    return v.as_object();
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_ws_events)

BOOST_FIXTURE_TEST_CASE(a_member_receives_the_event_as_delivered, neighbours)
{
    auto ann_stream = stream(ann_key, 1);
    sim.emit_event(lamp, {{"eventType", "motion"}, {"eventData", {{"level", 3}, {"zone", "hall"}}}});
    auto e = frame_json(ann_stream->read());
    BOOST_TEST(e.at("eventType").as_string() == "motion");
    BOOST_TEST(e.at("eventData") == json::parse(R"({"level":3,"zone":"hall"})"));
    BOOST_TEST(e.at("homeId").as_int64() == home);
    BOOST_TEST(e.at("originDeviceId").as_int64() == lamp.at("id").as_int64());
    BOOST_TEST(e.at("originDeviceClass").as_string() == "lamp");
    BOOST_TEST(e.at("originDeviceIp").as_string() == "127.0.0.1");
    BOOST_TEST(e.at("timestamp").is_string());
    // The same object /_sim/events recorded.
    BOOST_TEST(json::value(e) == sim.call(verb::get, "/_sim/events").json().as_array().at(0));
}

BOOST_FIXTURE_TEST_CASE(a_non_member_receives_nothing, neighbours)
{
    auto bob_stream = stream(bob_key, 1);
    auto cy_stream = stream(cy_key, 2);
    sim.emit_event(lamp, {{"eventType", "in_ann_home"}});
    sim.emit_event(sensor, {{"eventType", "in_bob_home"}});
    // Frames reach a socket in the order they were raised: had Bob been sent Ann's event, it would come first.
    BOOST_TEST(frame_json(bob_stream->read()).at("eventType").as_string() == "in_bob_home");
    BOOST_TEST(!cy_stream->read(300ms).has_value());
    BOOST_TEST(!bob_stream->read(300ms).has_value());
}

BOOST_FIXTURE_TEST_CASE(two_members_both_receive_it, neighbours)
{
    BOOST_REQUIRE(sim.call(verb::post, "/homes/" + std::to_string(home) + "/members", json::object{{"userId", bob}},
                           ann_key)
                      .status == 201U);
    auto ann_stream = stream(ann_key, 1);
    auto bob_stream = stream(bob_key, 2);
    auto ann_again = stream(ann_key, 3); // a second stream of the same user gets its own copy
    sim.emit_event(lamp, {{"eventType", "shared"}});
    for (auto* s : {ann_stream.get(), bob_stream.get(), ann_again.get()})
        BOOST_TEST(frame_json(s->read()).at("eventType").as_string() == "shared");
}

BOOST_FIXTURE_TEST_CASE(membership_counts_when_the_event_is_raised, neighbours)
{
    auto bob_stream = stream(bob_key, 1);
    auto home_members = "/homes/" + std::to_string(home) + "/members";
    // Bob joins after opening his stream: he gets the home's events from then on ...
    BOOST_REQUIRE(sim.call(verb::post, home_members, json::object{{"userId", bob}}, ann_key).status == 201U);
    sim.emit_event(lamp, {{"eventType", "while_member"}});
    BOOST_TEST(frame_json(bob_stream->read()).at("eventType").as_string() == "while_member");
    // ... and none once he has left.
    BOOST_REQUIRE(sim.call(verb::delete_, home_members + "/" + std::to_string(bob), "", ann_key).status == 204U);
    sim.emit_event(lamp, {{"eventType", "after_leaving"}});
    sim.emit_event(sensor, {{"eventType", "own_home"}});
    BOOST_TEST(frame_json(bob_stream->read()).at("eventType").as_string() == "own_home");
}

BOOST_FIXTURE_TEST_CASE(revoking_the_key_closes_the_stream, neighbours)
{
    auto ann_stream = stream(ann_key, 1);
    auto bob_stream = stream(bob_key, 2);
    BOOST_REQUIRE(sim.call(verb::delete_, "/userSession", "", ann_key).status == 204U);
    BOOST_TEST(ann_stream->wait_closed());
    BOOST_TEST(ann_stream->closed_with().value_or(0) == 1008);
    BOOST_TEST(eventually([&] { return sim.sim().model().counts().event_streams == 1U; }));
    BOOST_TEST(sim.call(verb::get, "/_sim/stats").json().at("eventStreams").as_int64() == 1);
    // Other keys' streams stay, and still carry events: a frame read, not a socket not yet seen closed.
    sim.emit_event(sensor, {{"eventType", "after_revocation"}});
    BOOST_TEST(frame_json(bob_stream->read()).at("eventType").as_string() == "after_revocation");
    BOOST_TEST(!bob_stream->closed_with().has_value());
    try {
        test::ws_client again(sim.port(), "/userSession/websocket?authToken=" + ann_key);
        BOOST_FAIL("a revoked key opened a stream");
    } catch (const test::ws_handshake_error& e) {
        BOOST_TEST(e.status() == 401U);
    }
}

BOOST_FIXTURE_TEST_CASE(only_user_keys_open_a_stream, neighbours)
{
    auto refused = [&](const std::string& target, const test::header_list& headers) -> unsigned {
        try {
            test::ws_client c(sim.port(), target, headers);
        } catch (const test::ws_handshake_error& e) {
            return e.status();
        }
        return 101;
    };
    BOOST_TEST(refused("/userSession/websocket?authToken=nope", {}) == 401U);
    BOOST_TEST(refused("/userSession/websocket", {}) == 401U);
    BOOST_TEST(refused("/userSession/websocket", {{"Authorization", std::string("ModeCloud ") + byou_key}}) == 403U);
    BOOST_TEST(refused("/userSession/websocket?authToken=" + std::string(lamp.at("apiKey").as_string()), {}) == 403U);
    // The Authorization header works as well as the query parameter.
    BOOST_TEST(refused("/userSession/websocket", {{"Authorization", "ModeCloud " + ann_key}}) == 101U);
}

BOOST_AUTO_TEST_SUITE_END()
