// MODE actions through the gateway, each with the caller's own MODE key, against the emulator.
#include "support/account_flow.hpp"
#include "support/mode_fixture.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"
#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/parse.hpp>

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <future>
#include <thread>

using namespace common::aliases;
using test::mode_fixture;

BOOST_AUTO_TEST_SUITE(homes)

namespace {

using test::expect_problem;

int member_rows(const std::string& db_url, std::int64_t home, const std::string& email)
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    return tx.exec_params1("SELECT count(*) FROM home_members m JOIN users u ON u.id = m.user_id "
                           "WHERE m.home_id = $1 AND u.email_normalized = lower($2)",
                           home, email)[0]
        .as<int>();
}

std::string body(json::object o)
{
    return json::serialize(o);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(homes_create_read_update_delete, mode_fixture)
{
    auto [email, token] = user("owner");
    auto list = call(http::verb::get, "/v1/homes", token);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    BOOST_TEST(list.json().as_array().empty());

    auto created = call(http::verb::post, "/v1/homes", token, body({{"name", "Beach house"}}));
    BOOST_TEST_REQUIRE(created.status == 201U, created);
    auto id = created.json().at("id").as_int64();
    BOOST_TEST(created.json().at("name").as_string() == "Beach house");
    // The caller is its owner, in MODE and in our membership record.
    auto members = call(http::verb::get, "/v1/homes/" + std::to_string(id) + "/members", token);
    BOOST_TEST_REQUIRE(members.status == 200U, members);
    BOOST_TEST_REQUIRE(members.json().as_array().size() == 1U);
    auto me = members.json().as_array()[0].as_object();
    BOOST_TEST(me.at("role").as_string() == "owner");
    BOOST_TEST(me.at("email").as_string() == email);
    BOOST_TEST(me.at("userId").as_int64() == mode_id(token));
    BOOST_TEST(member_rows(db.url(), id, email) == 1);

    list = call(http::verb::get, "/v1/homes", token);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    BOOST_TEST(list.json().as_array().size() == 1U);
    auto one = call(http::verb::get, "/v1/homes/" + std::to_string(id), token);
    BOOST_TEST_REQUIRE(one.status == 200U, one);
    BOOST_TEST(one.json().at("id").as_int64() == id);

    auto patched = call(http::verb::patch, "/v1/homes/" + std::to_string(id), token, body({{"name", "Mountain hut"}}));
    BOOST_TEST_REQUIRE(patched.status == 200U, patched);
    BOOST_TEST(patched.json().at("name").as_string() == "Mountain hut");

    BOOST_TEST(call(http::verb::delete_, "/v1/homes/" + std::to_string(id), token).status == 204U);
    expect_problem(call(http::verb::get, "/v1/homes/" + std::to_string(id), token), 404, "MODE_HOME_NOT_FOUND");
    BOOST_TEST(member_rows(db.url(), id, email) == 0);

    // Bad input.
    expect_problem(call(http::verb::post, "/v1/homes", token, "{}"), 400, "INVALID_REQUEST");
    expect_problem(call(http::verb::post, "/v1/homes", token, body({{"name", ""}})), 400, "INVALID_REQUEST");
    expect_problem(call(http::verb::get, "/v1/homes/abc", token), 404, "NOT_FOUND");
    expect_problem(call(http::verb::get, "/v1/homes/-4", token), 404, "NOT_FOUND");
    expect_problem(call(http::verb::get, "/v1/homes", ""), 401, "UNAUTHENTICATED");
    expect_problem(call(http::verb::get, "/v1/homes?limit=many", token), 400, "INVALID_REQUEST");
}

BOOST_FIXTURE_TEST_CASE(devices_claim_command_update_remove, mode_fixture)
{
    auto [email, token] = user("devowner");
    auto home = create_home(token);
    auto h = std::to_string(home);
    auto dev = claimable_device("thermostat");
    auto d = std::to_string(dev.id);

    expect_problem(call(http::verb::post, "/v1/homes/" + h + "/devices", token, body({{"claimCode", "WRONG-CODE"}})), 403,
                   "MODE_DEVICE_NOT_CLAIMABLE");
    auto claimed = call(http::verb::post, "/v1/homes/" + h + "/devices", token, body({{"claimCode", dev.claim_code}}));
    BOOST_TEST_REQUIRE(claimed.status == 201U, claimed);
    BOOST_TEST(claimed.json().at("id").as_int64() == dev.id);
    BOOST_TEST(claimed.json().at("homeId").as_int64() == home);

    auto list = call(http::verb::get, "/v1/homes/" + h + "/devices", token);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    BOOST_TEST_REQUIRE(list.json().as_array().size() == 1U);
    BOOST_TEST(list.json().as_array()[0].at("id").as_int64() == dev.id);

    auto patched = call(http::verb::patch, "/v1/devices/" + d, token, body({{"name", "Hall thermostat"}, {"tag", "hall"}}));
    BOOST_TEST_REQUIRE(patched.status == 200U, patched);
    BOOST_TEST(patched.json().at("name").as_string() == "Hall thermostat");
    BOOST_TEST(patched.json().at("tag").as_string() == "hall");
    auto reread = call(http::verb::get, "/v1/devices/" + d, token);
    BOOST_TEST_REQUIRE(reread.status == 200U, reread);
    BOOST_TEST(reread.json().at("tag").as_string() == "hall");
    BOOST_TEST(!reread.json().at("isConnected").as_bool());

    // Offline: MODE's DEVICE_OFFLINE comes through as a 409.
    json::object cmd{{"action", "setTemperature"}, {"parameters", {{"celsius", 21.5}, {"mode", "heat"}}}};
    expect_problem(call(http::verb::put, "/v1/devices/" + d + "/command", token, body(cmd)), 409, "MODE_DEVICE_OFFLINE");
    // The device connects to MODE's command channel with its own key; the command sent through the
    // gateway arrives there exactly as sent.
    test::ws_client channel(sim.port, "/devices/" + d + "/command", {{"Authorization", "ModeCloud " + dev.key}});
    // MODE counts the device connected once its side of the handshake is done, a moment after ours.
    BOOST_TEST_REQUIRE(test::eventually([&] {
        reread = call(http::verb::get, "/v1/devices/" + d, token);
        return reread.status == 200U && reread.json().at("isConnected").as_bool();
    }), reread);
    auto sent = call(http::verb::put, "/v1/devices/" + d + "/command", token, body(cmd));
    BOOST_TEST_REQUIRE(sent.status == 202U, sent);
    BOOST_TEST(sent.json().at("status").as_string() == "accepted");
    auto frame = channel.read(std::chrono::seconds(5));
    BOOST_TEST_REQUIRE(frame.has_value());
    auto got = json::parse(*frame).as_object();
    BOOST_TEST(got.at("action").as_string() == "setTemperature");
    BOOST_TEST(got.at("parameters") == cmd.at("parameters"));
    BOOST_TEST(got.size() == 2U);
    auto commands = sim_call(http::verb::get, "/_sim/devices/" + d + "/commands");
    BOOST_TEST_REQUIRE(commands.status == 200U, commands);
    BOOST_TEST_REQUIRE(commands.json().as_array().size() == 1U);

    expect_problem(call(http::verb::put, "/v1/devices/" + d + "/command", token, body({{"parameters", 3}})), 400,
                   "INVALID_REQUEST");
    expect_problem(call(http::verb::put, "/v1/devices/" + d + "/command", token,
                        body({{"action", "x"}, {"parameters", json::array{1}}})),
                   400, "INVALID_REQUEST");

    // Claimed already: another home cannot take it.
    auto other = create_home(token, "Other");
    auto again = call(http::verb::post, "/v1/homes/" + std::to_string(other) + "/devices", token,
                      body({{"claimCode", dev.claim_code}}));
    expect_problem(again, 409, "MODE_DEVICE_ALREADY_IN_HOME");
    // Refused changes leave the device where it was, and nothing else reached it.
    list = call(http::verb::get, "/v1/homes/" + h + "/devices", token);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    BOOST_TEST(list.json().as_array().size() == 1U);
    auto other_list = call(http::verb::get, "/v1/homes/" + std::to_string(other) + "/devices", token);
    BOOST_TEST_REQUIRE(other_list.status == 200U, other_list);
    BOOST_TEST(other_list.json().as_array().empty());
    commands = sim_call(http::verb::get, "/_sim/devices/" + d + "/commands");
    BOOST_TEST_REQUIRE(commands.status == 200U, commands);
    BOOST_TEST(commands.json().as_array().size() == 1U);

    auto removed = call(http::verb::delete_, "/v1/devices/" + d, token);
    BOOST_TEST_REQUIRE(removed.status == 204U, removed);
    list = call(http::verb::get, "/v1/homes/" + h + "/devices", token);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    BOOST_TEST(list.json().as_array().empty());
}

BOOST_FIXTURE_TEST_CASE(a_stranger_can_neither_read_nor_command, mode_fixture)
{
    auto [owner_email, owner] = user("owner");
    auto [stranger_email, stranger] = user("stranger");
    auto home = create_home(owner);
    auto h = std::to_string(home);
    auto dev = claimable_device();
    auto claimed = call(http::verb::post, "/v1/homes/" + h + "/devices", owner, body({{"claimCode", dev.claim_code}}));
    BOOST_TEST_REQUIRE(claimed.status == 201U, claimed);
    auto d = std::to_string(dev.id);
    auto connected = sim_call(http::verb::put, "/_sim/devices/" + d + "/connection", body({{"connected", true}}));
    BOOST_TEST_REQUIRE(connected.status / 100 == 2U, connected);
    auto as_owner = call(http::verb::get, "/v1/devices/" + d, owner);
    BOOST_TEST_REQUIRE(as_owner.status == 200U, as_owner);
    BOOST_TEST_REQUIRE(as_owner.json().at("isConnected").as_bool()); // a command would reach it

    // MODE's own refusal, passed through: the stranger is not a member of the home.
    expect_problem(call(http::verb::get, "/v1/homes/" + h, stranger), 403, "MODE_MEMBERS_ONLY");
    expect_problem(call(http::verb::get, "/v1/homes/" + h + "/members", stranger), 403, "MODE_MEMBERS_ONLY");
    expect_problem(call(http::verb::get, "/v1/homes/" + h + "/devices", stranger), 403, "MODE_MEMBERS_ONLY");
    expect_problem(call(http::verb::patch, "/v1/homes/" + h, stranger, body({{"name", "Mine now"}})), 403,
                   "MODE_MEMBERS_ONLY");
    expect_problem(call(http::verb::delete_, "/v1/homes/" + h, stranger), 403, "MODE_MEMBERS_ONLY");
    expect_problem(call(http::verb::get, "/v1/devices/" + d, stranger), 403, "MODE_MEMBERS_ONLY");
    expect_problem(call(http::verb::put, "/v1/devices/" + d + "/command", stranger, body({{"action", "unlock"}})), 403,
                   "MODE_MEMBERS_ONLY");
    expect_problem(call(http::verb::delete_, "/v1/devices/" + d, stranger), 403, "MODE_MEMBERS_ONLY");
    // Nothing reached the device, and the home and its device are untouched.
    auto commands = sim_call(http::verb::get, "/_sim/devices/" + d + "/commands");
    BOOST_TEST_REQUIRE(commands.status == 200U, commands);
    BOOST_TEST(commands.json().as_array().empty());
    auto still = call(http::verb::get, "/v1/homes/" + h, owner);
    BOOST_TEST_REQUIRE(still.status == 200U, still);
    BOOST_TEST(still.json().at("name").as_string() == "Beach house");
    auto devices = call(http::verb::get, "/v1/homes/" + h + "/devices", owner);
    BOOST_TEST_REQUIRE(devices.status == 200U, devices);
    BOOST_TEST_REQUIRE(devices.json().as_array().size() == 1U);
    BOOST_TEST(devices.json().as_array()[0].at("id").as_int64() == dev.id);
    BOOST_TEST(member_rows(db.url(), home, stranger_email) == 0);
    auto theirs = call(http::verb::get, "/v1/homes", stranger);
    BOOST_TEST_REQUIRE(theirs.status == 200U, theirs);
    BOOST_TEST(theirs.json().as_array().empty());
}

BOOST_FIXTURE_TEST_CASE(mode_outage_is_a_clear_503_and_recovers, mode_fixture)
{
    auto [email, token] = user("outage");
    auto home = create_home(token);
    add_fault({{"path", "/homes*"}, {"status", 503}});
    auto down = call(http::verb::get, "/v1/homes", token);
    expect_problem(down, 503, "MODE_UNAVAILABLE");
    BOOST_TEST(!down.header("Retry-After").empty());
    add_fault({{"path", "/devices*"}, {"status", 500}});
    add_fault({{"path", "/devices*"}, {"status", 500}});
    expect_problem(call(http::verb::post, "/v1/homes/" + std::to_string(home) + "/devices", token,
                        body({{"claimCode", "x"}})),
                   502, "MODE_UNAVAILABLE");
    clear_faults();
    auto back = call(http::verb::get, "/v1/homes", token);
    BOOST_TEST_REQUIRE(back.status == 200U, back);
    BOOST_TEST_REQUIRE(back.json().as_array().size() == 1U);
    BOOST_TEST(back.json().as_array()[0].at("id").as_int64() == home);
}

BOOST_AUTO_TEST_CASE(slow_mode_is_a_504_at_the_timeout_and_the_gateway_stays_responsive)
{
    mode_fixture f(std::map<std::string, std::string>{{"MB_MODE_TIMEOUT", "1500ms"}});
    auto [email, token] = f.user("patient");
    f.add_fault({{"path", "/homes*"}, {"method", "GET"}, {"delayMs", 8000}});
    auto slow = std::async(std::launch::async, [&] { return f.call(http::verb::get, "/v1/homes", token); });
    // While that call waits on MODE, the gateway answers others.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(f.call(http::verb::get, "/v1/me", token).status == 200U);
        BOOST_TEST(test::http_call(f.gw.port, http::verb::get, "/healthz").status == 200U);
    }
    BOOST_TEST((slow.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout),
               "the slow call should still be waiting on MODE");
    expect_problem(slow.get(), 504, "MODE_TIMEOUT");
    f.clear_faults();
}

BOOST_AUTO_TEST_CASE(a_pending_link_is_503_mode_link_pending)
{
    mode_fixture f;
    f.add_fault({{"path", "/users"}, {"method", "POST"}, {"status", 503}});
    auto email = test::unique_email("pending");
    auto token = test::verified_login(f.gw, email);
    auto r = f.call(http::verb::get, "/v1/homes", token);
    expect_problem(r, 503, "MODE_LINK_PENDING");
    BOOST_TEST(!r.header("Retry-After").empty());
    f.clear_faults();
    // Once the linker gets through, the same session works.
    test::http_result ok;
    for (int i = 0; i < 100; ++i) {
        ok = f.call(http::verb::get, "/v1/homes", token);
        if (ok.status == 200U)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(ok.status == 200U, ok);
}

BOOST_FIXTURE_TEST_CASE(a_revoked_mode_key_is_renewed, mode_fixture)
{
    auto [email, token] = user("renewed");
    auto home = create_home(token);
    auto old_key = stored_mode_key(email);
    // Someone invalidates the user's MODE key behind our back.
    BOOST_TEST(sim_call(http::verb::delete_, "/userSession", {}, {{"Authorization", "ModeCloud " + old_key}}).status == 204U);
    expect_problem(call(http::verb::get, "/v1/homes", token), 503, "MODE_LINK_PENDING");
    test::http_result ok;
    for (int i = 0; i < 100; ++i) {
        ok = call(http::verb::get, "/v1/homes/" + std::to_string(home), token);
        if (ok.status == 200U)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(ok.status == 200U, ok);
    BOOST_TEST(stored_mode_key(email) != old_key);
    // Same MODE user, not a new one.
    BOOST_TEST(sim_call(http::verb::get, "/_sim/users").json().as_array().size() == 1U);
}

BOOST_FIXTURE_TEST_CASE(stored_events_of_a_home, mode_fixture)
{
    auto [email, token] = user("historian");
    auto [stranger_email, stranger] = user("stranger");
    auto home = create_home(token);
    auto other_home = create_home(token, "Other");
    // The ingest stores what MODE's webhook sends; here it shares the gateway's database.
    auto ingest = test::start_ingest(db.url());
    auto post = [&](std::int64_t h, int n) {
        auto b = body({{"homeId", h}, {"eventType", "tick"}, {"eventData", {{"n", n}}}, {"originDeviceId", 1}});
        auto r = test::post_signed_event(ingest, b);
        BOOST_REQUIRE_EQUAL(r.status, 204U);
    };
    for (int i = 0; i < 5; ++i) {
        post(home, i);
        post(other_home, 100 + i);
    }
    auto path = "/v1/homes/" + std::to_string(home) + "/events";
    auto all = call(http::verb::get, path, token);
    BOOST_TEST_REQUIRE(all.status == 200U, all);
    auto events = all.json().at("events").as_array();
    BOOST_TEST_REQUIRE(events.size() == 5U);
    std::int64_t prev = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
        BOOST_TEST(events[i].at("type").as_string() == "event");
        BOOST_TEST(events[i].at("homeId").as_int64() == home);
        BOOST_TEST(events[i].at("eventData").at("n").as_int64() == static_cast<std::int64_t>(i));
        BOOST_TEST(events[i].at("seq").as_int64() > prev);
        prev = events[i].at("seq").as_int64();
    }
    BOOST_TEST(all.json().at("next").as_int64() == prev);
    // Paging: after a seq, with a limit.
    auto first_seq = events[0].at("seq").as_int64();
    auto page_r = call(http::verb::get, path + "?after=" + std::to_string(first_seq) + "&limit=2", token);
    BOOST_TEST_REQUIRE(page_r.status == 200U, page_r);
    auto page = page_r.json();
    BOOST_TEST_REQUIRE(page.at("events").as_array().size() == 2U);
    BOOST_TEST(page.at("events").as_array()[0].at("eventData").at("n").as_int64() == 1);
    BOOST_TEST(page.at("events").as_array()[1].at("eventData").at("n").as_int64() == 2);
    auto rest_r = call(http::verb::get, path + "?after=" + std::to_string(prev), token);
    BOOST_TEST_REQUIRE(rest_r.status == 200U, rest_r);
    auto rest = rest_r.json();
    BOOST_TEST(rest.at("events").as_array().empty());
    BOOST_TEST(rest.at("next").as_int64() == prev);
    // Only members see a home's history; bad parameters are refused.
    // The gateway's own check: a home the caller is not in does not exist for them.
    expect_problem(call(http::verb::get, path, stranger), 404, "NOT_FOUND");
    expect_problem(call(http::verb::get, path + "?after=-1", token), 400, "INVALID_REQUEST");
    expect_problem(call(http::verb::get, path + "?limit=0", token), 400, "INVALID_REQUEST");
}

// MODE pages its lists at 25 by default: the gateway reads every page of members and devices.
BOOST_FIXTURE_TEST_CASE(members_and_devices_past_one_mode_page_are_all_listed, mode_fixture)
{
    auto [email, token] = user("bighome");
    auto home = create_home(token);
    auto h = std::to_string(home);
    for (int i = 0; i < 30; ++i) {
        auto added = call(http::verb::post, "/v1/homes/" + h + "/members", token,
                          body({{"email", "member" + std::to_string(i) + "-" + email}}));
        BOOST_TEST_REQUIRE(added.status == 201U, added);
        auto dev = claimable_device("thermostat");
        auto claimed = call(http::verb::post, "/v1/homes/" + h + "/devices", token, body({{"claimCode", dev.claim_code}}));
        BOOST_TEST_REQUIRE(claimed.status == 201U, claimed);
    }
    auto members = call(http::verb::get, "/v1/homes/" + h + "/members", token);
    BOOST_TEST_REQUIRE(members.status == 200U, members);
    BOOST_TEST(members.json().as_array().size() == 31U); // the owner and thirty
    auto devices = call(http::verb::get, "/v1/homes/" + h + "/devices", token);
    BOOST_TEST_REQUIRE(devices.status == 200U, devices);
    BOOST_TEST(devices.json().as_array().size() == 30U);
    // Asking for one page still gets that page only.
    auto page = call(http::verb::get, "/v1/homes/" + h + "/devices?limit=10", token);
    BOOST_TEST_REQUIRE(page.status == 200U, page);
    BOOST_TEST(page.json().as_array().size() == 10U);
}

BOOST_AUTO_TEST_SUITE_END()
