// websocket: how connections end: close codes both ways, failing handlers, limits, dead peers, shutdown.

#include "support/websocket_harness.hpp"

using namespace websocket_harness;

BOOST_AUTO_TEST_SUITE(websocket)

BOOST_AUTO_TEST_CASE(peer_close_is_seen_by_read_with_its_code)
{
    ws_server s;
    s.start();
    test::ws_client c(s.port(), "/echo");
    c.send("ping");
    BOOST_REQUIRE(c.read().has_value());
    c.close(4321);
    BOOST_REQUIRE(test::eventually([&] { return s.seen.has_ended(); }));
    std::lock_guard lock(s.seen.mutex);
    BOOST_TEST(s.seen.peer_code.value_or(0) == 4321);
    BOOST_TEST(!s.seen.saw_stopping);
}

BOOST_AUTO_TEST_CASE(server_close_code_reaches_the_client)
{
    ws_server s;
    s.start();
    test::ws_client c(s.port(), "/refuse");
    BOOST_TEST(c.wait_closed());
    BOOST_TEST(c.closed_with().value_or(0) == 4001);
}

BOOST_AUTO_TEST_CASE(a_throwing_handler_closes_with_1011)
{
    ws_server s;
    s.start();
    test::ws_client c(s.port(), "/throws");
    BOOST_TEST(c.wait_closed());
    BOOST_TEST(c.closed_with().value_or(0) == 1011);
    BOOST_TEST(test::eventually([&] { return s.open_websockets() == 0; }));
}

BOOST_AUTO_TEST_CASE(a_handler_that_ends_with_a_read_pending_still_closes)
{
    ws_server s;
    s.start();
    test::ws_client c(s.port(), "/writer-first");
    BOOST_TEST(c.read().value_or("<none>") == "bye");
    BOOST_TEST(c.wait_closed());
    BOOST_TEST(test::eventually([&] { return s.open_websockets() == 0; }));
    // As websocket.hpp says: the cancelled read leaves nothing to close with, so the connection is dropped.
    BOOST_TEST(!c.closed_with().has_value());
}

BOOST_AUTO_TEST_CASE(message_over_the_limit_closes_with_1009)
{
    ws_server s;
    web::server_options o;
    o.ws_message_limit = 1024;
    s.start(o);
    test::ws_client c(s.port(), "/echo");
    c.send(std::string(1000, 'a'));
    BOOST_TEST(c.read().value_or("").size() == 1000U);
    c.send(std::string(2000, 'b'));
    BOOST_TEST(c.wait_closed());
    BOOST_TEST(c.closed_with().value_or(0) == 1009);
    BOOST_TEST(test::eventually([&] { return s.seen.has_ended(); }));
}

BOOST_AUTO_TEST_CASE(a_peer_that_does_not_answer_pings_is_dropped)
{
    ws_server s;
    web::server_options o;
    o.ws_idle_timeout = 300ms;
    s.start(o);
    // This client never reads until the end: the server's pings go unanswered.
    test::ws_client silent(s.port(), "/echo");
    BOOST_REQUIRE(test::eventually([&] { return s.seen.has_ended(); }));
    BOOST_TEST(silent.wait_closed());
    BOOST_TEST(!silent.closed_with().has_value()); // dropped, not closed with a code
    // This one reads for several idle periods, so it answers the pings and stays.
    test::ws_client alive(s.port(), "/rooms/1/live");
    BOOST_TEST(alive.read(1500ms).has_value()); // its greeting
    BOOST_TEST(!alive.read(1500ms).has_value());
    BOOST_TEST(alive.is_open());
}

BOOST_AUTO_TEST_CASE(shutdown_closes_websockets_with_1001_and_completes)
{
    ws_server s;
    s.start();
    test::ws_client a(s.port(), "/echo");
    test::ws_client b(s.port(), "/rooms/9/live");
    BOOST_REQUIRE(b.read().has_value());
    BOOST_REQUIRE(test::eventually([&] { return s.open_websockets() == 2; }));
    // A grace period far longer than the test: the WebSockets must not wait for it.
    auto done = s.begin_shutdown(10min);
    BOOST_TEST(a.wait_closed(10s));
    BOOST_TEST(a.closed_with().value_or(0) == 1001);
    BOOST_TEST(b.wait_closed(10s));
    BOOST_TEST(b.closed_with().value_or(0) == 1001);
    BOOST_REQUIRE(done.wait_for(20s) == std::future_status::ready);
    done.get();
    BOOST_TEST(s.server().connections() == 0U);
    BOOST_TEST(s.open_websockets() == 0);
    std::lock_guard lock(s.seen.mutex);
    BOOST_TEST(s.seen.ended);
    BOOST_TEST(s.seen.saw_stopping);
}

BOOST_AUTO_TEST_SUITE_END()
