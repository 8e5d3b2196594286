// Protocol abuse on the gateway's live stream (GET /v1/events) from its clients: frame floods, frames a
// client may not send, and a client that vanishes without closing. Each ends as the WebSocket protocol
// says (or not at all, for valid frames), and another stream of the same home keeps receiving every
// event in order. The HTTP side is in protocol_abuse_test.cpp.
#include "support/live_deployment.hpp"
#include "support/metrics_probe.hpp"
#include "support/raw_socket.hpp"
#include "support/tcp_relay.hpp"
#include "support/wait.hpp"

#include <atomic>
#include <thread>

namespace abuse_ws {

using namespace std::chrono_literals;

constexpr std::uint8_t op_text = 0x1, op_binary = 0x2, op_continuation = 0x0, op_ping = 0x9, op_pong = 0xa, op_close = 0x8;

test::header_list bearer(const live::deployment::user& u)
{
    return {{"Authorization", "Bearer " + u.token}};
}

std::unique_ptr<test::ws_client> ready_stream(live::deployment& d, const live::deployment::user& u)
{
    auto ws = d.stream(u);
    live::until_ready(*ws);
    return ws;
}

/** Emits events n = first .. first + count - 1 of `u`'s home and checks `ws` receives each, in order. */
void expect_events(live::deployment& d, const live::deployment::user& u, test::ws_client& ws, int first, int count)
{
    for (int n = first; n < first + count; ++n)
        d.emit(u.home, n);
    std::int64_t last_seq = 0;
    for (int n = first; n < first + count; ++n) {
        auto e = live::next(ws);
        BOOST_TEST_REQUIRE(std::string(e.at("type").as_string()) == "event");
        BOOST_TEST(live::n_of(e) == n);
        BOOST_TEST(e.at("seq").as_int64() > last_seq);
        last_seq = e.at("seq").as_int64();
    }
}

double sample(live::deployment& d, const std::string& name)
{
    return test::metric_sample(d.gw.port, name);
}

} // namespace abuse_ws

BOOST_AUTO_TEST_SUITE(protocol_abuse)

using namespace std::chrono_literals;

// What the gateway does with what a client sends on its stream: nothing. Messages are read and dropped
// (no answer, no close), pings are answered with pongs, and the stream goes on.
BOOST_AUTO_TEST_CASE(messages_from_a_stream_client_are_read_and_ignored)
{
    live::deployment d;
    auto u = d.new_user("chatty");
    auto ws = abuse_ws::ready_stream(d, u);
    ws->send(R"({"type":"subscribe","homeId":999999})");
    ws->send("hello");
    BOOST_TEST(!ws->read(1s).has_value(), "the gateway answered a client message");
    BOOST_TEST(ws->is_open());
    abuse_ws::expect_events(d, u, *ws, 0, 3);
}

// A client writing frames as fast as it can (text, binary, pings, all valid and small) neither holds up
// another stream of its home, which receives every event in order meanwhile, nor is cut off itself.
BOOST_AUTO_TEST_CASE(a_client_flooding_frames_does_not_hold_up_another_stream_of_its_home)
{
    live::deployment d;
    auto u = d.new_user("flood");
    auto good = abuse_ws::ready_stream(d, u);
    test::raw_websocket flooder(d.gw.port, "/v1/events", abuse_ws::bearer(u));
    // Its stream is live before the flood begins (a stream opened without `after` gets what comes after
    // its `ready`).
    for (;;) {
        auto f = flooder.next(10s);
        BOOST_TEST_REQUIRE(f.has_value(), "no ready for the flooder");
        if (f->opcode == abuse_ws::op_text && json::parse(f->payload).at("type").as_string() == "ready")
            break;
    }
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    std::atomic<bool> accepted{true};
    int pings = 0;
    std::thread flood([&] {
        for (int i = 0; !stop && accepted; ++i) {
            std::string frame = i % 3 == 0   ? test::ws_client_frame(abuse_ws::op_text, R"({"type":"ack","n":)" + std::to_string(i) + "}")
                                : i % 3 == 1 ? test::ws_client_frame(abuse_ws::op_binary, std::string(16, '\x01'))
                                             : test::ws_client_frame(abuse_ws::op_ping, "p");
            pings += i % 3 == 2 ? 1 : 0;
            accepted = flooder.send(frame);
            ++sent;
        }
    });
    // The flood is under way before the first event, and goes on until the last one arrived.
    BOOST_TEST_REQUIRE(test::eventually([&] { return sent > 1000; }));
    const int events = 40;
    abuse_ws::expect_events(d, u, *good, 0, events);
    stop = true;
    flood.join();
    BOOST_TEST(accepted.load(), "the gateway cut the flooding client off");
    BOOST_TEST_MESSAGE("the flooder sent " << sent << " frames");

    // The flooder is a stream like any other: its events came too, in order, and each ping had its pong.
    int pongs = 0;
    int got = 0;
    while (got < events) {
        auto f = flooder.next(10s);
        BOOST_TEST_REQUIRE(f.has_value(), "the flooder got " << got << " events");
        if (f->opcode == abuse_ws::op_pong) {
            ++pongs;
        } else if (f->opcode == abuse_ws::op_text) {
            auto m = json::parse(f->payload).as_object();
            if (m.at("type").as_string() == "event")
                BOOST_TEST(live::n_of(m) == got++);
        }
    }
    while (pongs < pings) {
        auto f = flooder.next(10s);
        BOOST_TEST_REQUIRE(f.has_value(), pongs << " pongs for " << pings << " pings");
        pongs += f->opcode == abuse_ws::op_pong ? 1 : 0;
    }
    BOOST_TEST(flooder.send(test::ws_client_frame(abuse_ws::op_close, std::string("\x03\xe8", 2))));
    BOOST_TEST(flooder.close_code().value_or(0) == 1000);
}

// Frames a client may not send close its stream with the code RFC 6455 gives (a message over
// MB_WS_MESSAGE_LIMIT 1009, text that is not UTF-8 1007, an unmasked or otherwise malformed frame 1002),
// and the other stream of the home goes on.
BOOST_AUTO_TEST_CASE(frames_a_client_may_not_send_close_its_stream_with_their_code)
{
    live::deployment d;
    auto u = d.new_user("bad-frames");
    auto good = abuse_ws::ready_stream(d, u);
    const std::size_t limit = 65536; // MB_WS_MESSAGE_LIMIT's default
    struct bad_frame
    {
        std::string what;
        std::string bytes;
        std::uint16_t code;
    };
    const std::vector<bad_frame> cases = {
        {"a text message over the limit", test::ws_client_frame(abuse_ws::op_text, std::string(limit + 1, 'a')), 1009},
        {"a binary message over the limit", test::ws_client_frame(abuse_ws::op_binary, std::string(limit + 1, 'a')), 1009},
        {"fragments adding up past the limit",
         test::ws_client_frame(abuse_ws::op_text, std::string(limit / 2, 'a'), true, false) +
             test::ws_client_frame(abuse_ws::op_continuation, std::string(limit / 2, 'a'), true, false) +
             test::ws_client_frame(abuse_ws::op_continuation, "a"),
         1009},
        {"a frame announcing 2^62 bytes", std::string("\x82\xff\x40\x00\x00\x00\x00\x00\x00\x00", 10) + "abcd", 1009},
        {"invalid UTF-8 text", test::ws_client_frame(abuse_ws::op_text, "caf\xc3"), 1007},
        {"invalid UTF-8 across fragments",
         test::ws_client_frame(abuse_ws::op_text, "ok \xe2\x82", true, false) + test::ws_client_frame(abuse_ws::op_continuation, "x"), 1007},
        {"an unmasked frame", test::ws_client_frame(abuse_ws::op_text, "hi", false), 1002},
        {"a reserved opcode", test::ws_client_frame(0x3, "hi"), 1002},
        {"a fragmented ping", test::ws_client_frame(abuse_ws::op_ping, "p", true, false), 1002},
        {"a ping over 125 bytes", test::ws_client_frame(abuse_ws::op_ping, std::string(126, 'p')), 1002},
        {"a compressed frame never negotiated", "\xc1" + test::ws_client_frame(abuse_ws::op_text, "hi").substr(1), 1002},
        {"a continuation with nothing to continue", test::ws_client_frame(abuse_ws::op_continuation, "x"), 1002},
    };
    auto too_big_before = abuse_ws::sample(d, "mb_live_streams_closed_total{reason=\"too_big_1009\"}");
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what)
        {
            test::raw_websocket ws(d.gw.port, "/v1/events", abuse_ws::bearer(u));
            ws.send(c.bytes); // the server may close before it has read it all
            BOOST_TEST(ws.close_code().value_or(0) == c.code);
            BOOST_TEST(ws.connection().wait_closed(10s));
        }
    }
    // Counted once each stream's end has run its course, just after its connection closed.
    BOOST_TEST(test::eventually(
        [&] { return abuse_ws::sample(d, "mb_live_streams_closed_total{reason=\"too_big_1009\"}") == too_big_before + 4; }));
    BOOST_TEST(test::eventually([&] { return abuse_ws::sample(d, "mb_live_streams") == 1; }));
    abuse_ws::expect_events(d, u, *good, 0, 3);
}

// A stream client that vanishes without a FIN (the relay freezes: nothing moves, nothing closes) stops
// answering pings: the gateway drops it after MB_WS_IDLE_TIMEOUT, its gauges go back, and a client that
// answers its pings stays.
BOOST_AUTO_TEST_CASE(a_stream_client_that_vanishes_is_dropped_after_the_ping_timeout)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_WS_IDLE_TIMEOUT", "2s"}});
    auto u = d.new_user("vanish");
    auto good = abuse_ws::ready_stream(d, u);
    test::tcp_relay relay("127.0.0.1", d.gw.port);
    test::ws_client gone(relay.port(), "/v1/events", abuse_ws::bearer(u));
    live::until_ready(gone);
    BOOST_TEST(abuse_ws::sample(d, "mb_live_streams") == 2);
    BOOST_TEST(abuse_ws::sample(d, "mb_ws_connections") == 2);
    const std::string idle = "mb_live_streams_closed_total{reason=\"idle_timeout\"}";
    auto idle_before = abuse_ws::sample(d, idle);
    relay.freeze();
    // The healthy client reads meanwhile, and so answers the pings.
    bool dropped = test::eventually(
        [&] {
            BOOST_TEST_REQUIRE(!good->read(100ms).has_value());
            return abuse_ws::sample(d, "mb_live_streams") == 1;
        },
        20s);
    BOOST_TEST(dropped);
    BOOST_TEST(abuse_ws::sample(d, "mb_ws_connections") == 1);
    BOOST_TEST(abuse_ws::sample(d, idle) == idle_before + 1);
    BOOST_TEST(good->is_open());
    abuse_ws::expect_events(d, u, *good, 0, 3);
}

BOOST_AUTO_TEST_SUITE_END()
