// The live stream's logic, without I/O: each case is a table of inputs and the actions the machine
// answers with (until it needs a result, waits, or closes), covering every transition.
#include "live/stream_machine.hpp"

#include "common/mode/event.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using gateway::live_message;
using gateway::stream_machine;
using clock_type = stream_machine::clock;
using namespace std::chrono_literals;
using kind = stream_machine::action::kind_t;

constexpr std::int64_t me = 77; // the user's MODE user

// An action in a few words: "event 5", "added 3", "removed 3", "ready 9 [1,2]", "sub h1,u", "unsub h2",
// "homes", "sync", "top", "page 1,2>5", "session", "wait", "close 4008".
std::string describe(const stream_machine::action& a)
{
    auto homes_of = [](const std::vector<std::string>& channels) {
        std::string out;
        for (const auto& ch : channels) {
            if (!out.empty())
                out += ',';
            auto h = common::mode::home_of_channel(ch);
            out += h ? "h" + std::to_string(*h) : "u";
        }
        return out;
    };
    switch (a.kind) {
    case kind::send: {
        const auto& text = a.shared ? a.shared->payload : a.text;
        auto v = boost::json::parse(text).as_object();
        auto type = std::string(v.at("type").as_string());
        if (type == "event")
            return "event " + std::to_string(v.at("seq").as_int64());
        if (type == "home.added")
            return "added " + std::to_string(v.at("homeId").as_int64());
        if (type == "home.removed")
            return "removed " + std::to_string(v.at("homeId").as_int64());
        if (type == "ready")
            return "ready " + std::to_string(v.at("lastSeq").as_int64()) + " " + boost::json::serialize(v.at("homes"));
        return "note " + type;
    }
    case kind::subscribe: return "sub " + homes_of(a.channels);
    case kind::unsubscribe: return "unsub " + homes_of(a.channels);
    case kind::read_homes: return "homes";
    case kind::sync_hub: return "sync";
    case kind::read_top: return "top";
    case kind::read_page: {
        std::string hs;
        for (auto h : a.homes)
            hs += (hs.empty() ? "" : ",") + std::to_string(h);
        return "page " + hs + ">" + std::to_string(a.from);
    }
    case kind::check_session: return "session";
    case kind::wait: return "wait";
    case kind::close: return "close " + std::to_string(a.code);
    }
    return "?";
}

std::shared_ptr<const live_message> event(std::int64_t home, std::int64_t seq)
{
    auto m = std::make_shared<live_message>();
    m->channel = common::mode::home_channel(home);
    m->kind = live_message::kind_t::event;
    m->home = home;
    m->seq = seq;
    m->payload = common::mode::live_event_json(seq, R"({"homeId":)" + std::to_string(home) + "}");
    return m;
}

std::shared_ptr<const live_message> on_home(live_message::kind_t k, std::int64_t home, std::int64_t mode_user = 0)
{
    auto m = std::make_shared<live_message>();
    m->channel = common::mode::home_channel(home);
    m->kind = k;
    m->home = home;
    m->mode_user = mode_user;
    m->payload = "{}";
    return m;
}

std::shared_ptr<const live_message> for_user(live_message::kind_t k, bool reload, std::string type,
                                             clock_type::time_point received = {})
{
    auto m = std::make_shared<live_message>();
    m->channel = common::mode::user_channel("u1");
    m->kind = k;
    m->reload = reload;
    m->payload = R"({"type":")" + type + R"("})";
    m->received = received; // by default before any read of the homes in these tables
    return m;
}

std::vector<stream_machine::row> rows(std::initializer_list<std::int64_t> seqs)
{
    std::vector<stream_machine::row> out;
    for (auto s : seqs)
        out.emplace_back(s, "{}");
    return out;
}

// One stream driven by a table: each step is an input and the actions it must produce.
struct harness
{
    explicit harness(std::optional<std::int64_t> after = std::nullopt, stream_machine::limits l = limits())
        : now(clock_type::now())
        , m(l, "u1", me, after, now)
    {
    }

    static stream_machine::limits limits()
    {
        stream_machine::limits l;
        l.backlog = 4;
        l.recheck = 60s;
        l.max_age = 5min;
        l.session_check = 5s;
        l.page = 3;
        return l;
    }

    // Drains next() until an action that needs a result, a wait or a close.
    std::string drain()
    {
        std::string out;
        for (int i = 0; i < 100; ++i) {
            auto a = m.next(now);
            out += (out.empty() ? "" : "; ") + describe(a);
            if (a.kind != kind::send && a.kind != kind::subscribe && a.kind != kind::unsubscribe)
                return out;
        }
        return out + "; ...";
    }

    clock_type::time_point now;
    stream_machine m;
};

using step = std::pair<std::function<void(harness&)>, std::string>;

void play(harness& h, const std::vector<step>& table)
{
    int n = 0;
    for (const auto& [input, expected] : table) {
        ++n;
        if (input)
            input(h);
        auto got = h.drain();
        BOOST_TEST(got == expected, "step " << n << ": got \"" << got << "\", want \"" << expected << "\"");
    }
}

// Inputs.
auto homes(std::vector<std::int64_t> list)
{
    return [list](harness& h) { h.m.homes_read(list, h.now, h.now); };
}
auto homes_fail()
{
    return [](harness& h) { h.m.homes_failed(h.now, 1s); };
}
auto synced()
{
    return [](harness& h) { h.m.hub_synced(); };
}
auto top(std::int64_t t)
{
    return [t](harness& h) { h.m.top_read(t); };
}
auto page(std::initializer_list<std::int64_t> seqs)
{
    auto r = rows(seqs);
    return [r](harness& h) { h.m.page_read(r); };
}
auto store_fail()
{
    return [](harness& h) { h.m.store_failed(h.now, 1s); };
}
auto push(std::shared_ptr<const live_message> msg)
{
    return [msg](harness& h) { h.m.push(msg); };
}
auto pushes(std::vector<std::shared_ptr<const live_message>> msgs)
{
    return [msgs](harness& h) {
        for (const auto& msg : msgs)
            h.m.push(msg);
    };
}
auto lost()
{
    return [](harness& h) { h.m.redis_lost(h.now, 0ms); };
}
auto later(clock_type::duration d)
{
    return [d](harness& h) { h.now += d; };
}
auto session(bool holds)
{
    return [holds](harness& h) { h.m.session_checked(holds); };
}

// Two inputs in one step: something that happens while a result is awaited, then the result.
auto both(std::function<void(harness&)> a, std::function<void(harness&)> b)
{
    return [a, b](harness& h) {
        a(h);
        b(h);
    };
}

// The opening every live case starts from: homes 1 and 2, live from seq 10.
const std::vector<step> opened = {
    {nullptr, "homes"},
    {homes({1, 2}), "sub h1,h2,u; sync"},
    {synced(), "top"},
    {top(10), "ready 10 [1,2]; wait"},
};

std::vector<step> then(std::vector<step> a, const std::vector<step>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream_machine_table)

// Opening.

BOOST_AUTO_TEST_CASE(opens_live_from_the_stores_top_without_after)
{
    harness h;
    play(h, opened);
    BOOST_TEST(h.m.is_live());
    BOOST_TEST(h.m.cursor() == 10);
}

BOOST_AUTO_TEST_CASE(opens_with_after_by_catching_up_page_by_page)
{
    harness h(4);
    play(h, {
                {nullptr, "homes"},
                {homes({1}), "sub h1,u; sync"},
                {synced(), "top"},
                {top(20), "page 1>4"},
                {page({5, 6, 8}), "event 5; event 6; event 8; page 1>8"}, // a full page: read on
                {page({12, 25}), "event 12; ready 20 [1]; wait"},        // 25 is above the top: later, live
            });
    BOOST_TEST(h.m.cursor() == 20);
}

BOOST_AUTO_TEST_CASE(opens_with_after_at_or_past_the_top_without_reading_pages)
{
    harness h(30);
    play(h, {{nullptr, "homes"}, {homes({1}), "sub h1,u; sync"}, {synced(), "top"}, {top(20), "ready 30 [1]; wait"}});
}

BOOST_AUTO_TEST_CASE(a_user_without_homes_listens_to_their_own_channel_only)
{
    harness h(4);
    play(h, {{nullptr, "homes"}, {homes({}), "sub u; sync"}, {synced(), "top"}, {top(20), "ready 20 []; wait"}});
}

BOOST_AUTO_TEST_CASE(opening_closes_1013_when_mode_or_the_store_fails)
{
    {
        harness h;
        play(h, {{nullptr, "homes"}, {homes_fail(), "close 1013"}});
        BOOST_TEST(h.m.is_closed());
    }
    {
        harness h;
        play(h, {{nullptr, "homes"}, {homes({1}), "sub h1,u; sync"}, {synced(), "top"}, {store_fail(), "close 1013"}});
    }
    {
        harness h(1);
        play(h, {{nullptr, "homes"}, {homes({1}), "sub h1,u; sync"}, {synced(), "top"}, {top(9), "page 1>1"},
                 {store_fail(), "close 1013"}});
    }
}

BOOST_AUTO_TEST_CASE(events_arriving_while_opening_wait_and_skip_what_the_catch_up_sent)
{
    harness h(4);
    play(h, {
                {nullptr, "homes"},
                {homes({1}), "sub h1,u; sync"},
                {both(pushes({event(1, 6), event(1, 9)}), synced()), "top"}, // nothing goes before ready
                {top(7), "page 1>4"},
                {page({6}), "event 6; ready 7 [1]; event 9; wait"},
            });
}

// Live events.

BOOST_AUTO_TEST_CASE(live_events_go_in_order_once_and_only_for_the_users_homes)
{
    harness h;
    play(h, then(opened, {
                             {push(event(1, 11)), "event 11; wait"},
                             {push(event(3, 12)), "wait"},  // not a home of the user
                             {push(event(2, 11)), "wait"},  // at the cursor: a repeat
                             {push(event(2, 13)), "event 13; wait"},
                             {push(event(1, 5)), "wait"},   // below: sent or before the start
                         }));
    BOOST_TEST(h.m.cursor() == 13);
}

BOOST_AUTO_TEST_CASE(a_client_too_slow_is_closed_4008)
{
    harness h; // backlog 4
    play(h, then(opened, {{pushes({event(1, 11), event(1, 12), event(1, 13), event(1, 14), event(1, 15)}), "close 4008"}}));
    BOOST_TEST(h.m.is_closed());
}

BOOST_AUTO_TEST_CASE(notifications_are_forwarded_and_a_member_added_rereads_the_homes)
{
    harness h;
    play(h, then(opened, {
                             {push(for_user(live_message::kind_t::notification, false, "invite.accepted")),
                              "note invite.accepted; wait"},
                             {push(for_user(live_message::kind_t::notification, true, "member.added")),
                              "note member.added; homes"},
                             {homes({1, 2}), "wait"}, // nothing changed
                         }));
}

// Homes.

BOOST_AUTO_TEST_CASE(a_home_gained_is_subscribed_announced_and_caught_up_before_newer_events)
{
    harness h;
    play(h, then(opened, {
                             {push(for_user(live_message::kind_t::homes_changed, false, "membership.changed")), "homes"},
                             {homes({1, 2, 3}), "sub h3; added 3; sync"},
                             {both(push(event(1, 15)), synced()), "top"}, // waits for the gap to be filled
                             {top(14), "page 1,2,3>10"},
                             {page({12}), "event 12; event 15; wait"},
                         }));
    BOOST_TEST(h.m.cursor() == 15);
}

BOOST_AUTO_TEST_CASE(a_home_lost_stops_before_its_next_event)
{
    harness h;
    play(h, then(opened, {
                             {pushes({for_user(live_message::kind_t::homes_changed, false, "membership.changed"),
                                      event(2, 11)}),
                              "homes"},
                             {homes({1}), "unsub h2; removed 2; wait"}, // its queued event is dropped
                             {push(event(2, 12)), "wait"},
                         }));
    BOOST_TEST(h.m.homes().count(2) == 0U);
}

BOOST_AUTO_TEST_CASE(removals_announced_on_the_home_channel_apply_at_once)
{
    harness h;
    play(h, then(opened, {
                             {push(on_home(live_message::kind_t::member_removed, 1, me + 1)), "wait"}, // someone else
                             {push(on_home(live_message::kind_t::member_removed, 1, me)), "unsub h1; removed 1; wait"},
                             {push(event(1, 11)), "wait"},
                             {push(on_home(live_message::kind_t::home_deleted, 2)), "unsub h2; removed 2; wait"},
                             {push(on_home(live_message::kind_t::home_deleted, 2)), "wait"}, // once
                         }));
    BOOST_TEST(h.m.homes().empty());
}

BOOST_AUTO_TEST_CASE(a_change_announced_after_a_read_began_is_read_again)
{
    harness h;
    auto announced = h.now + 1s;
    play(h, then(opened, {
                             {push(for_user(live_message::kind_t::homes_changed, false, "membership.changed", announced)),
                              "homes"},
                             {homes({1, 2}), "homes"}, // that read began before the change: again
                             {[announced](harness& x) { x.m.homes_read({1}, announced, x.now); }, "unsub h2; removed 2; wait"},
                         }));
}

BOOST_AUTO_TEST_CASE(the_homes_are_reread_every_recheck)
{
    harness h;
    play(h, then(opened, {
                             {later(5s), "session"},
                             {session(true), "wait"},
                             {later(56s), "session"},
                             {session(true), "homes"},
                             {homes({2}), "unsub h1; removed 1; wait"},
                         }));
}

BOOST_AUTO_TEST_CASE(mode_failing_keeps_the_last_homes_within_the_bound_then_closes_1013)
{
    harness h;
    play(h, then(opened, {
                             {push(for_user(live_message::kind_t::homes_changed, false, "membership.changed")), "homes"},
                             {homes_fail(), "wait"},
                             {push(event(1, 11)), "event 11; wait"}, // live events flow meanwhile
                             {later(1s), "homes"},                   // asked again
                             {[](harness& x) {
                                  x.now += 5min;
                                  x.m.homes_failed(x.now, 1s);
                              },
                              "close 1013"},
                         }));
}

// Losses and the store.

BOOST_AUTO_TEST_CASE(after_a_redis_loss_live_events_wait_until_the_store_filled_the_gap)
{
    harness h;
    play(h, then(opened, {
                             {lost(), "homes"},
                             {homes({1, 2}), "top"},
                             {both(push(event(1, 14)), store_fail()), "wait"}, // held: the gap is not filled
                             {push(event(1, 15)), "wait"},
                             {later(1s), "top"},
                             {top(14), "page 1,2>10"},
                             // A full page, but it reached the top: done, and the held events follow.
                             {page({11, 13, 14}), "event 11; event 13; event 14; event 15; wait"},
                         }));
    BOOST_TEST(h.m.cursor() == 15);
}

BOOST_AUTO_TEST_CASE(a_catch_up_cut_short_resumes_where_it_stopped)
{
    harness h;
    play(h, then(opened, {
                             {lost(), "homes"},
                             {homes({1, 2}), "top"},
                             {top(30), "page 1,2>10"},
                             {page({11, 12, 13}), "event 11; event 12; event 13; page 1,2>13"},
                             {store_fail(), "wait"},
                             {later(1s), "top"},
                             {top(30), "page 1,2>13"},
                             {page({20}), "event 20; wait"},
                         }));
    BOOST_TEST(h.m.cursor() == 30);
}

BOOST_AUTO_TEST_CASE(a_loss_during_a_catch_up_asks_for_another_round)
{
    harness h;
    play(h, then(opened, {
                             {lost(), "homes"},
                             {homes({1, 2}), "top"},
                             {top(12), "page 1,2>10"},
                             {both(lost(), page({11})), "event 11; homes"}, // lost while the page was read
                             {homes({1, 2}), "top"},
                             {top(16), "page 1,2>12"},
                             {page({16}), "event 16; wait"},
                         }));
}

BOOST_AUTO_TEST_CASE(removals_go_through_while_events_wait_for_the_store)
{
    harness h;
    play(h, then(opened, {
                             {lost(), "homes"},
                             {homes({1, 2}), "top"},
                             {store_fail(), "wait"},
                             {pushes({event(1, 14), on_home(live_message::kind_t::home_deleted, 2)}),
                              "unsub h2; removed 2; wait"},
                         }));
}

// Sessions.

BOOST_AUTO_TEST_CASE(a_session_that_ended_closes_4001)
{
    harness h;
    play(h, then(opened, {{later(5s), "session"}, {session(false), "close 4001"}}));
    BOOST_TEST(h.m.is_closed());
}

BOOST_AUTO_TEST_CASE(next_before_a_result_is_a_programming_error)
{
    harness h;
    play(h, {{nullptr, "homes"}});
    BOOST_CHECK_THROW(h.m.next(h.now), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()
