// docs/openapi.yaml stays true: every route the services register is described and nothing else is (the
// route tables come from the real app wiring), and the answers of the running gateway and webhook-ingest
// to every route, successes and the main refusals, match the description: status documented, content
// type as documented, body valid against its schema (tests/openapi/validate.py).
#include "integration/platform/openapi_check.hpp"

#include "support/deployment.hpp"
#include "support/mode_fixture.hpp"
#include "support/wait.hpp"
#include "support/webhook.hpp"
#include "support/ws_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace common::aliases;
using test::exchange_log;
using test::mode_fixture;

namespace {

std::string scratch_file(const std::string& name)
{
    return (std::filesystem::temp_directory_path() / ("mb-openapi-" + std::to_string(::getpid()) + "-" + name)).string();
}

std::string body(const json::object& o)
{
    return json::serialize(o);
}

/** The gateway and webhook-ingest of one fixture, and the log of every exchange with them. */
struct driver
{
    mode_fixture& f;
    test::running_service& ingest;
    exchange_log& log;

    test::http_result gw(http::verb m, const std::string& route, const std::string& target,
                         std::initializer_list<unsigned> expected, const std::string& token = {}, std::string b = {},
                         test::header_list headers = {})
    {
        return log.call(f.gw, "gateway", m, route, target, expected, token, std::move(b), std::move(headers));
    }

    /** A route with `{...}` parameters, asked at `target`. */
    test::http_result post(const std::string& route, const json::object& o, std::initializer_list<unsigned> expected,
                           const std::string& token = {})
    {
        return gw(http::verb::post, route, route, expected, token, body(o));
    }
};

const std::string too_large(70'000, ' '); // over the MB_BODY_LIMIT both services get below

/** Accounts and sessions: returns a session of a verified, linked user. */
std::string drive_accounts(driver& d)
{
    auto ann = test::unique_email("ann");
    const json::object ann_register{{"email", ann}, {"password", test::good_password}, {"name", "Ann"}};
    d.post("/v1/auth/register", ann_register, {201});
    d.post("/v1/auth/register", ann_register, {409});
    d.post("/v1/auth/register", {{"email", "not an address"}, {"password", test::good_password}, {"name", "X"}}, {400});
    d.post("/v1/auth/register", {{"email", test::unique_email()}, {"password", "short"}, {"name", "X"}}, {400});
    d.gw(http::verb::post, "/v1/auth/register", "/v1/auth/register", {400}, {}, "{\"email\":");
    d.gw(http::verb::post, "/v1/auth/register", "/v1/auth/register", {415}, {}, "email=x",
         {{"Content-Type", "application/x-www-form-urlencoded"}});
    d.gw(http::verb::post, "/v1/auth/register", "/v1/auth/register", {413}, {}, "{\"email\":\"" + too_large + "\"}");
    d.post("/v1/auth/login", {{"email", ann}, {"password", test::good_password}}, {403});

    auto verify = test::token_from_mail(ann, "Confirm");
    d.post("/v1/auth/verify-email", {{"token", verify}}, {200});
    d.post("/v1/auth/verify-email", {{"token", "no-such-token"}}, {400});

    // Resend: the same answer for any address, then the per-address limit.
    auto bob = test::unique_email("bob");
    d.post("/v1/auth/register", {{"email", bob}, {"password", test::good_password}, {"name", "Bob"}}, {201});
    d.post("/v1/auth/resend-verification", {{"email", bob}}, {202});
    d.post("/v1/auth/resend-verification", {{"email", bob}}, {429});

    auto session = std::string(
        d.post("/v1/auth/login", {{"email", ann}, {"password", test::good_password}}, {200}).json().at("token").as_string());
    d.post("/v1/auth/login", {{"email", ann}, {"password", "not the password at all"}}, {401});
    d.gw(http::verb::get, "/v1/me", "/v1/me", {200}, session);
    d.gw(http::verb::get, "/v1/me", "/v1/me", {401});

    // Sessions: a second one is listed, revoked, then unknown.
    auto second = test::login(d.f.gw, ann);
    BOOST_TEST_REQUIRE(second.status == 200U, second);
    auto listed = d.gw(http::verb::get, "/v1/me/sessions", "/v1/me/sessions", {200}, session).json().as_array();
    std::string other;
    for (const auto& s : listed)
        if (!s.at("current").as_bool())
            other = std::string(s.at("id").as_string());
    BOOST_TEST_REQUIRE(!other.empty());
    d.gw(http::verb::delete_, "/v1/me/sessions/{id}", "/v1/me/sessions/" + other, {204}, session);
    d.gw(http::verb::delete_, "/v1/me/sessions/{id}", "/v1/me/sessions/" + other, {404}, session);
    d.gw(http::verb::delete_, "/v1/me/sessions/{id}", "/v1/me/sessions/not-a-session", {404}, session);

    auto third = std::string(test::login(d.f.gw, ann).json().at("token").as_string());
    d.gw(http::verb::post, "/v1/auth/logout", "/v1/auth/logout", {204}, third);
    d.gw(http::verb::post, "/v1/auth/logout", "/v1/auth/logout", {401}, third);

    // Password reset, on an account of its own (a reset ends every session).
    auto [carol, carol_session] = d.f.user("carol");
    d.post("/v1/auth/forgot-password", {{"email", carol}}, {202});
    d.post("/v1/auth/forgot-password", {{"email", carol}}, {429});
    auto reset = test::token_from_mail(carol, "Reset");
    d.post("/v1/auth/reset-password", {{"token", reset}, {"password", "another good passphrase"}}, {204});
    d.post("/v1/auth/reset-password", {{"token", reset}, {"password", "another good passphrase"}}, {400});

    // MODE actions need the MODE link, which registration waits for (briefly) and the linker completes.
    BOOST_TEST_REQUIRE(test::eventually([&] {
        auto me = test::get_with(d.f.gw, "/v1/me", session);
        return me.status == 200U && me.json().at("user").at("mode").at("linked").as_bool();
    }));
    return session;
}

/** Homes, members and invitations (confirm-first): returns the home the rest uses. */
std::int64_t drive_homes(driver& d, const std::string& owner)
{
    auto created = d.post("/v1/homes", {{"name", "Beach"}}, {201}, owner);
    auto home = created.json().at("id").as_int64();
    auto h = "/v1/homes/" + std::to_string(home);
    d.post("/v1/homes", {{"name", ""}}, {400}, owner);
    d.gw(http::verb::get, "/v1/homes", "/v1/homes", {200}, owner);
    d.gw(http::verb::get, "/v1/homes", "/v1/homes?limit=5", {200}, owner);
    d.gw(http::verb::get, "/v1/homes", "/v1/homes?limit=many", {400}, owner);
    d.gw(http::verb::get, "/v1/homes", "/v1/homes", {401});
    d.gw(http::verb::get, "/v1/homes/{homeId}", h, {200}, owner);
    d.gw(http::verb::get, "/v1/homes/{homeId}", "/v1/homes/beach", {404}, owner);
    d.gw(http::verb::get, "/v1/homes/{homeId}", "/v1/homes/987654321", {403, 404}, owner);
    d.gw(http::verb::patch, "/v1/homes/{homeId}", h, {200}, owner, body({{"name", "Beach house"}}));
    auto spare = d.f.create_home(owner, "Spare");
    d.gw(http::verb::delete_, "/v1/homes/{homeId}", "/v1/homes/" + std::to_string(spare), {204}, owner);

    // Members: an existing user is invited (202), refused as an inviter while not an owner (403), accepts
    // (200), is re-added (200, the existing membership) and removed (204).
    const std::string members = "/v1/homes/{homeId}/members";
    auto [friend_email, friend_session] = d.f.user("friend");
    d.gw(http::verb::post, members, h + "/members", {202}, owner, body({{"email", friend_email}}));
    d.gw(http::verb::post, members, h + "/members", {403}, friend_session, body({{"email", test::unique_email()}}));
    d.gw(http::verb::post, members, h + "/members", {400}, owner, body({{"email", friend_email}, {"role", "king"}}));
    auto invitation = test::token_from_mail(friend_email, "invited you");
    d.post("/v1/invitations/accept", {{"token", invitation}}, {200}, friend_session);
    d.post("/v1/invitations/accept", {{"token", invitation}}, {400}, friend_session);
    d.gw(http::verb::post, members, h + "/members", {200}, owner, body({{"email", friend_email}}));
    d.gw(http::verb::get, members, h + "/members", {200}, owner);
    auto friend_id = d.f.mode_id(friend_session);
    d.gw(http::verb::delete_, members + "/{userId}", h + "/members/" + std::to_string(friend_id), {204}, owner);

    // A new address: invited, then the account is claimed with accept-invite.
    auto newcomer = test::unique_email("newcomer");
    d.gw(http::verb::post, members, h + "/members", {202}, owner, body({{"email", newcomer}}));
    auto claim = test::token_from_mail(newcomer, "invited you");
    d.post("/v1/auth/accept-invite", {{"token", claim}, {"password", test::good_password}, {"name", "Newcomer"}}, {200});
    d.post("/v1/auth/accept-invite", {{"token", claim}, {"password", test::good_password}}, {400});
    return home;
}

/** Devices and commands in `home`. */
void drive_devices(driver& d, const std::string& owner, std::int64_t home)
{
    auto h = "/v1/homes/" + std::to_string(home);
    auto dev = d.f.claimable_device();
    const std::string devices = "/v1/homes/{homeId}/devices";
    d.gw(http::verb::post, devices, h + "/devices", {201}, owner, body({{"claimCode", dev.claim_code}}));
    d.gw(http::verb::post, devices, h + "/devices", {403, 409}, owner, body({{"claimCode", dev.claim_code}}));
    d.gw(http::verb::get, devices, h + "/devices", {200}, owner);
    auto one = "/v1/devices/" + std::to_string(dev.id);
    d.gw(http::verb::get, "/v1/devices/{deviceId}", one, {200}, owner);
    d.gw(http::verb::patch, "/v1/devices/{deviceId}", one, {200}, owner, body({{"name", "Hall"}, {"tag", "front"}}));
    const std::string command = "/v1/devices/{deviceId}/command";
    d.gw(http::verb::put, command, one + "/command", {409}, owner, body({{"action", "unlock"}}));
    d.gw(http::verb::put, command, one + "/command", {400}, owner, body({{"action", "unlock"}, {"parameters", 3}}));
    test::ws_client channel(d.f.sim.port, "/devices/" + std::to_string(dev.id) + "/command",
                            {{"Authorization", "ModeCloud " + dev.key}});
    BOOST_TEST_REQUIRE(test::eventually([&] {
        auto r = d.f.call(http::verb::get, one, owner);
        return r.status == 200U && r.json().at("isConnected").as_bool();
    }));
    d.gw(http::verb::put, command, one + "/command", {202}, owner, body({{"action", "unlock"}, {"parameters", json::object{}}}));
    d.gw(http::verb::delete_, "/v1/devices/{deviceId}", one, {204}, owner);
    d.gw(http::verb::get, "/v1/devices/{deviceId}", one, {403, 404}, owner);
}

/** The webhook, the history it feeds, and the live stream's upgrade and refusals. */
void drive_events(driver& d, const std::string& owner, std::int64_t home)
{
    const std::string hook = "/v1/mode/events";
    json::object event;
    event["eventType"] = "doorOpened";
    event["homeId"] = home;
    event["eventData"] = json::object{{"door", "front"}};
    event["timestamp"] = "2026-03-01T12:00:00.000Z";
    event["originDeviceId"] = 7;
    event["originDeviceClass"] = "lock";
    d.log.record("webhook-ingest", http::verb::post, hook, hook, test::post_signed_event(d.ingest, body(event)), {204});
    d.log.record("webhook-ingest", http::verb::post, hook, hook,
                 test::post_signed_event(d.ingest, body(event), "not the webhook key"), {401});
    auto no_home = R"({"eventType":"doorOpened","homeId":"one"})";
    d.log.record("webhook-ingest", http::verb::post, hook, hook, test::post_signed_event(d.ingest, no_home), {400});
    d.log.record("webhook-ingest", http::verb::post, hook, hook, test::post_signed_event(d.ingest, too_large), {413});

    const std::string history = "/v1/homes/{homeId}/events";
    auto h = "/v1/homes/" + std::to_string(home) + "/events";
    auto page = d.gw(http::verb::get, history, h + "?after=0&limit=10", {200}, owner);
    BOOST_TEST(page.json().at("events").as_array().size() == 1U, page); // so its Event schema was checked
    d.gw(http::verb::get, history, h + "?limit=0", {400}, owner);
    d.gw(http::verb::get, history, "/v1/homes/987654321/events", {404}, owner);

    // The live stream: a plain GET, an upgrade, and one stream too many for this user (the limit is 1).
    d.gw(http::verb::get, "/v1/events", "/v1/events", {426}, owner);
    test::ws_client live(d.f.gw.port, "/v1/events?after=0", {{"Authorization", "Bearer " + owner}});
    test::http_result switched;
    switched.status = 101;
    d.log.record("gateway", http::verb::get, "/v1/events", "/v1/events?after=0", switched, {101});
    test::header_list upgrade{{"Upgrade", "websocket"},
                              {"Connection", "Upgrade"},
                              {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                              {"Sec-WebSocket-Version", "13"}};
    d.gw(http::verb::get, "/v1/events", "/v1/events?access_token=" + owner, {429}, {}, {}, upgrade);
}

void drive_health(driver& d)
{
    for (auto* s : {&d.f.gw, &d.ingest}) {
        const std::string service = s == &d.ingest ? "webhook-ingest" : "gateway";
        for (const std::string path : {"/healthz", "/readyz", "/metrics"})
            d.log.call(*s, service, http::verb::get, path, path, {200});
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(openapi)

BOOST_AUTO_TEST_CASE(every_registered_route_is_described_and_every_described_route_is_registered)
{
    test::deployment dep(test::deployment_options{.gateways = 1, .ingests = 1});
    auto routes = test::served_routes(dep.gw().env, dep.ingest().env);
    BOOST_TEST_REQUIRE(routes.find("/v1/mode/events") != std::string::npos, routes);
    auto file = scratch_file("routes.jsonl");
    std::ofstream(file) << routes;
    auto v = test::run_openapi_validator({"--routes", file});
    BOOST_TEST(v.exit_code == 0, v.output);
    std::filesystem::remove(file);
}

BOOST_AUTO_TEST_CASE(every_answer_of_the_running_services_matches_the_description)
{
    mode_fixture f({{"MB_MEMBER_FLOW", "confirm-first"}, {"MB_LIVE_STREAMS_PER_USER", "1"}, {"MB_BODY_LIMIT", "65536"}});
    auto ingest = test::start_ingest(f.db.url(), {{"MB_BODY_LIMIT", "65536"}});
    exchange_log log(scratch_file("exchanges.jsonl"));
    driver d{f, ingest, log};

    auto owner = drive_accounts(d);
    auto home = drive_homes(d, owner);
    drive_devices(d, owner, home);
    drive_events(d, owner, home);
    drive_health(d);

    auto v = test::run_openapi_validator({"--exchanges", log.path()});
    BOOST_TEST(v.exit_code == 0, v.output);
    BOOST_TEST_MESSAGE(log.size() << " exchanges: " << v.output);
    if (v.exit_code == 0)
        std::filesystem::remove(log.path());
}

BOOST_AUTO_TEST_SUITE_END()
