// The live stream's logic, without I/O: each case is a table of inputs and the actions the machine
// answers with (until it needs a result, waits, or closes), covering every transition.
#include "stream_machine_table.hpp"

using namespace stream_table;

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
                             {[announced](harness& x) { x.m.homes_read({1}, announced); }, "unsub h2; removed 2; wait"},
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
