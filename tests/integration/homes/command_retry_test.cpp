// A device command moves something physical: when the connection to MODE drops after the command went
// out, the gateway must not send it again (a second actuation). Reads may still be retried. The gateway
// reaches the emulator through a relay that lets the request through, holds MODE's answer and cuts the
// connection; the emulator records every command it received.
#include "support/account_flow.hpp"
#include "support/mode_fixture.hpp"
#include "support/wait.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <future>

using namespace common::aliases;

namespace {

struct relayed_mode : test::mode_fixture
{
    relayed_mode()
        : test::mode_fixture({}, true)
    {
    }

    /** A device claimed into a home of the user, marked connected in the emulator. */
    std::string connected_device(const std::string& token)
    {
        auto home = std::to_string(create_home(token));
        auto dev = claimable_device("lock");
        auto d = std::to_string(dev.id);
        auto claimed = call(http::verb::post, "/v1/homes/" + home + "/devices", token,
                            json::serialize(json::object{{"claimCode", dev.claim_code}}));
        BOOST_REQUIRE_MESSAGE(claimed.status == 201U, claimed);
        auto on = sim_call(http::verb::put, "/_sim/devices/" + d + "/connection",
                           json::serialize(json::object{{"connected", true}}));
        BOOST_REQUIRE_MESSAGE(on.status == 204U, on);
        return d;
    }

    /** `method path` through the gateway while the relay cuts MODE's connection once the request for
        `marker` reached the emulator. */
    test::http_result cut_after(const std::string& marker, http::verb method, const std::string& path,
                                const std::string& token, std::string body = {})
    {
        relay->hold_replies_after(marker);
        auto answer = std::async(std::launch::async, [&, body] { return call(method, path, token, body); });
        BOOST_REQUIRE_MESSAGE(test::eventually([&] { return relay->trapped(); }), "the call never reached MODE");
        relay->cut_held();
        return answer.get();
    }

    std::size_t commands_received(const std::string& d)
    {
        auto r = sim_call(http::verb::get, "/_sim/devices/" + d + "/commands");
        BOOST_REQUIRE_MESSAGE(r.status == 200U, r);
        return r.json().as_array().size();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(homes)

BOOST_FIXTURE_TEST_CASE(a_command_is_never_sent_twice_when_the_connection_drops, relayed_mode)
{
    auto [email, token] = user("actuator");
    auto d = connected_device(token);
    auto cmd = json::serialize(json::object{{"action", "unlock"}});

    auto r = cut_after("/devices/" + d + "/command", http::verb::put, "/v1/devices/" + d + "/command", token, cmd);
    // MODE took the command once; whether it acted is unknown to the gateway, which says so (without
    // inviting a retry) rather than sending it again.
    BOOST_TEST(commands_received(d) == 1U);
    test::expect_problem(r, 502, "MODE_OUTCOME_UNKNOWN");
    BOOST_TEST(r.header("Retry-After").empty(), r);

    // A read cut the same way is retried on a fresh connection and answered.
    auto read = cut_after("GET /devices/" + d + " ", http::verb::get, "/v1/devices/" + d, token);
    BOOST_TEST(read.status == 200U, read);
    BOOST_TEST(commands_received(d) == 1U);
}

BOOST_AUTO_TEST_SUITE_END()
