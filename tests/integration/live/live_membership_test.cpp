// The live stream follows MODE's word on a user's homes: changes made directly in MODE, paging, shared
// reads, removals that meet a failure half-way, and MODE outages.
#include "support/live_deployment.hpp"
#include "support/tcp_relay.hpp"

#include <algorithm>
#include <thread>

using namespace common::aliases;

namespace live {

// MODE's own API with the project key, as the company's admin scripts or MODE's console change homes
// behind the gateway's back.
test::http_result mode_admin(deployment& d, http::verb m, const std::string& path, const std::string& body = {})
{
    return test::http_call(d.sim.port, m, path, body, {{"Authorization", "ModeCloud sim-project-key"}});
}

// The next message, which must be `type` about `home`.
void expect_note(test::ws_client& ws, const std::string& type, std::int64_t home)
{
    auto m = next(ws);
    BOOST_TEST(m.at("type").as_string() == type, json::serialize(m));
    BOOST_TEST(m.at("homeId").as_int64() == home, json::serialize(m));
}

std::vector<std::int64_t> ready_homes(test::ws_client& ws)
{
    for (;;) {
        auto m = next(ws);
        if (m.at("type").as_string() != "ready")
            continue;
        std::vector<std::int64_t> out;
        for (const auto& h : m.at("homes").as_array())
            out.push_back(h.as_int64());
        return out;
    }
}

double metric(unsigned short port, const std::string& name)
{
    auto body = test::http_call(port, http::verb::get, "/metrics").body;
    auto at = body.find("\n" + name + " ");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, name + " not in /metrics");
    return std::stod(body.substr(at + name.size() + 2));
}

// An owner and a guest made a member of the owner's home through the gateway, with the guest's stream
// open and past the two messages that tell it (member.added, home.added).
struct shared_home
{
    deployment::user owner, guest;
    std::unique_ptr<test::ws_client> ws;
    std::string members; // the home's members path in the gateway's API
};

shared_home share_a_home(deployment& d, const std::string& who)
{
    shared_home s{d.new_user(who + "-owner"), d.new_user(who + "-guest"), nullptr, ""};
    s.ws = d.stream(s.guest);
    ready_homes(*s.ws);
    s.members = "/v1/homes/" + std::to_string(s.owner.home) + "/members";
    BOOST_TEST_REQUIRE(d.call(http::verb::post, s.members, s.owner.token, {{"email", s.guest.email}}).status == 201U);
    for (int i = 0; i < 2; ++i)
        (void)next(*s.ws);
    return s;
}

} // namespace live

BOOST_AUTO_TEST_SUITE(live_membership)

BOOST_AUTO_TEST_CASE(members_added_and_removed_directly_in_mode_are_followed)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_LIVE_RECHECK", "1s"}});
    auto owner = d.new_user("mode-owner");
    auto guest = d.new_user("mode-guest");
    auto ws = d.stream(guest);
    BOOST_TEST((live::ready_homes(*ws) == std::vector<std::int64_t>{guest.home}));
    auto members = "/homes/" + std::to_string(owner.home) + "/members";

    // Added in MODE, not through the gateway: the open stream learns it at its next read of MODE.
    auto added = live::mode_admin(d, http::verb::post, members, json::serialize(json::object{{"userId", guest.mode_user}}));
    BOOST_TEST_REQUIRE(added.status == 201U, added);
    live::expect_note(*ws, "home.added", owner.home);
    d.emit(owner.home, 1);
    BOOST_TEST(live::n_of(live::next(*ws)) == 1);
    // A stream opened afterwards has it from the start.
    {
        auto later = d.stream(guest);
        auto homes = live::ready_homes(*later);
        BOOST_TEST((homes == std::vector<std::int64_t>{std::min(owner.home, guest.home), std::max(owner.home, guest.home)}));
    }
    // So does the stored history.
    auto history = d.call(http::verb::get, "/v1/homes/" + std::to_string(owner.home) + "/events", guest.token);
    BOOST_TEST(history.status == 200U, history);

    // Removed in MODE: the open stream stops following the home, and says so.
    auto removed = live::mode_admin(d, http::verb::delete_, members + "/" + std::to_string(guest.mode_user));
    BOOST_TEST_REQUIRE(removed.status == 204U, removed);
    live::expect_note(*ws, "home.removed", owner.home);
    d.emit(owner.home, 2);
    d.emit(guest.home, 3);
    BOOST_TEST(live::n_of(live::next(*ws)) == 3);
    BOOST_TEST(!ws->read(std::chrono::milliseconds(300)).has_value(), "an event of a home the user left");

    // Backfill never returns the events of a home the user is not in now, even those from before.
    auto resumed = d.stream(guest, "?after=0");
    auto missed = live::until_ready(*resumed);
    BOOST_TEST_REQUIRE(missed.size() == 1U);
    BOOST_TEST(missed[0].at("homeId").as_int64() == guest.home);
    BOOST_TEST(live::n_of(missed[0]) == 3);
    history = d.call(http::verb::get, "/v1/homes/" + std::to_string(owner.home) + "/events", guest.token);
    BOOST_TEST(history.status == 404U, history);
}

BOOST_AUTO_TEST_CASE(thirty_homes_are_listed_and_streamed)
{
    live::deployment d;
    auto u = d.new_user("many");
    std::vector<std::int64_t> homes{u.home};
    for (int i = 1; i < 30; ++i) {
        auto h = d.call(http::verb::post, "/v1/homes", u.token, {{"name", "home " + std::to_string(i)}});
        BOOST_TEST_REQUIRE(h.status == 201U, h);
        homes.push_back(h.json().at("id").as_int64());
    }
    // MODE pages its lists at 25: every page is read.
    auto list = d.call(http::verb::get, "/v1/homes", u.token);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    std::vector<std::int64_t> listed;
    auto body = list.json();
    for (const auto& h : body.as_array())
        listed.push_back(h.at("id").as_int64());
    std::sort(listed.begin(), listed.end());
    BOOST_TEST(listed == homes);
    // One page when the client asks for one.
    auto page = d.call(http::verb::get, "/v1/homes?skip=25&limit=25", u.token);
    BOOST_TEST(page.json().as_array().size() == 5U);

    auto ws = d.stream(u);
    BOOST_TEST(live::ready_homes(*ws) == homes);
    d.emit(homes.back(), 30);
    d.emit(homes.front(), 1);
    BOOST_TEST(live::n_of(live::next(*ws)) == 30);
    BOOST_TEST(live::n_of(live::next(*ws)) == 1);
}

BOOST_AUTO_TEST_CASE(streams_of_one_user_opened_together_share_one_read_of_mode)
{
    live::deployment d;
    auto u = d.new_user("sharer");
    auto before = live::metric(d.gw.port, "mb_live_home_reads");
    std::vector<std::unique_ptr<test::ws_client>> streams;
    for (int i = 0; i < 5; ++i)
        streams.push_back(d.stream(u));
    for (auto& ws : streams)
        BOOST_TEST((live::ready_homes(*ws) == std::vector<std::int64_t>{u.home}));
    auto reads = live::metric(d.gw.port, "mb_live_home_reads") - before;
    BOOST_TEST(reads >= 1.0);
    BOOST_TEST(reads < 5.0);
}

BOOST_AUTO_TEST_CASE(a_removal_through_a_gateway_whose_store_is_down_stops_streams_everywhere)
{
    live::deployment d;
    // A second instance reads PostgreSQL through a relay that can hang.
    test::tcp_relay relay(d.db.url());
    auto other = test::start_gateway(relay.rewrite_url(d.db.url()), d.sim.base_url(),
                                     {{"MB_REDIS_URL", d.redis_url},
                                      {"MB_DB_TIMEOUT", "1s"},
                                      {"MB_SECRET_KEY", d.gw.env.at("MB_SECRET_KEY")}});
    auto [owner, guest, ws, members] = live::share_a_home(d, "pg");
    // The owner's session is in the second instance's cache before its store goes away.
    auto at_other = [&](http::verb m, const std::string& path) {
        return test::http_call(other.port, m, path, {}, {{"Authorization", "Bearer " + owner.token}});
    };
    BOOST_TEST_REQUIRE(at_other(http::verb::get, "/v1/me").status == 200U);

    relay.freeze();
    auto removed = at_other(http::verb::delete_, members + "/" + std::to_string(guest.mode_user));
    // MODE made the change; the record could not follow, and need not: it is set right from MODE later.
    BOOST_TEST(removed.status == 204U, removed);
    live::expect_note(*ws, "home.removed", owner.home);
    d.emit(owner.home, 1);
    d.emit(guest.home, 2);
    BOOST_TEST(live::n_of(live::next(*ws)) == 2);
    relay.thaw();
}

BOOST_AUTO_TEST_CASE(a_removal_whose_answer_from_mode_is_lost_still_stops_streams)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_MODE_TIMEOUT", "1s"}});
    auto [owner, guest, ws, members] = live::share_a_home(d, "lost");

    // MODE removes the member, but only after the gateway stopped waiting for its answer.
    auto fault = live::mode_admin(d, http::verb::post, "/_sim/faults",
                                  json::serialize(json::object{{"path", "/homes/*"}, {"method", "DELETE"}, {"delayMs", 2500}, {"count", 1}}));
    BOOST_TEST_REQUIRE(fault.status / 100 == 2U, fault);
    auto removed = d.call(http::verb::delete_, members + "/" + std::to_string(guest.mode_user), owner.token);
    BOOST_TEST(removed.status == 504U, removed);
    // The stream stops following the home all the same.
    live::expect_note(*ws, "home.removed", owner.home);
    d.emit(owner.home, 1);
    d.emit(guest.home, 2);
    BOOST_TEST(live::n_of(live::next(*ws)) == 2);

    // A removal MODE refuses (the caller is no owner) tells no stream anything.
    auto stranger = d.new_user("lost-stranger");
    auto refused = d.call(http::verb::delete_, "/v1/homes/" + std::to_string(guest.home) + "/members/" + std::to_string(guest.mode_user),
                          stranger.token);
    BOOST_TEST(refused.status / 100 == 4U, refused);
    d.emit(guest.home, 3);
    BOOST_TEST(live::n_of(live::next(*ws)) == 3);
}

BOOST_AUTO_TEST_CASE(while_mode_is_down_the_last_list_serves_for_a_bounded_age)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_LIVE_RECHECK", "1s"}, {"MB_MEMBERSHIP_MAX_AGE", "4s"}, {"MB_MODE_TIMEOUT", "2s"}});
    auto u = d.new_user("no-mode");
    auto open = d.stream(u);
    BOOST_TEST((live::ready_homes(*open) == std::vector<std::int64_t>{u.home}));

    auto down = live::mode_admin(d, http::verb::post, "/_sim/faults",
                                 json::serialize(json::object{{"path", "/homes"}, {"method", "GET"}, {"status", 503}}));
    BOOST_TEST_REQUIRE(down.status / 100 == 2U, down);
    // Within the bound: a new stream opens on the last list MODE gave, and events flow.
    {
        auto ws = d.stream(u);
        BOOST_TEST((live::ready_homes(*ws) == std::vector<std::int64_t>{u.home}));
        d.emit(u.home, 1);
        BOOST_TEST(live::n_of(live::next(*ws)) == 1);
    }
    BOOST_TEST(live::n_of(live::next(*open)) == 1);
    auto history = d.call(http::verb::get, "/v1/homes/" + std::to_string(u.home) + "/events", u.token);
    BOOST_TEST(history.status == 200U, history);

    // Past it: the open stream is closed with 1013, new ones too, and the history is refused clearly.
    BOOST_TEST(open->wait_closed(std::chrono::seconds(15)));
    BOOST_TEST(open->closed_with().value_or(0) == 1013);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto refused = d.stream(u);
    BOOST_TEST(refused->wait_closed(std::chrono::seconds(15)), d.gw.proc->output());
    BOOST_TEST(refused->closed_with().value_or(0) == 1013);
    history = d.call(http::verb::get, "/v1/homes/" + std::to_string(u.home) + "/events", u.token);
    BOOST_TEST(history.status == 503U, history);
    BOOST_TEST(history.json().at("code").as_string() == "MODE_UNAVAILABLE");

    // MODE back: streams open again.
    live::mode_admin(d, http::verb::delete_, "/_sim/faults");
    auto back = d.stream(u);
    BOOST_TEST((live::ready_homes(*back) == std::vector<std::int64_t>{u.home}));
}

BOOST_AUTO_TEST_SUITE_END()
