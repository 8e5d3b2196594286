#include "common/web/websocket.hpp"

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"
#include "common/web/router.hpp"
#include "common/web/server.hpp"
#include "support/http_call.hpp"
#include "support/test_server.hpp"
#include "support/tls_cert.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

using namespace common::aliases;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace web = common::web;
using tcp = net::ip::tcp;

namespace {

/** Payload sizes around the three lengths of a frame header (7 bits, 16 bits, 64 bits). */
constexpr std::size_t frame_sizes[] = {0, 5, 125, 126, 300, 65535, 65536, 70000};

/** What the WebSocket handlers report to the test body (set on the server's thread). */
struct observed
{
    std::mutex mutex;
    bool ended = false;                    // the handler returned
    std::optional<std::uint16_t> peer_code; // ws.close_code() when read() ended
    bool saw_stopping = false;             // ws.stopping() when read() ended

    void end(const web::ws_connection& ws)
    {
        std::lock_guard lock(mutex);
        ended = true;
        peer_code = ws.close_code();
        saw_stopping = ws.stopping();
    }
    bool has_ended()
    {
        std::lock_guard lock(mutex);
        return ended;
    }
};

/** The test server with the WebSocket routes below; `seen` is what they report to the test body. */
struct ws_server : test::test_server
{
    observed seen;

    ws_server()
    {
        common::log::init("web_tests", common::log::level::warn);
        add_routes();
    }
    ~ws_server() { stop(); } // before `seen` goes: the handlers use it

    std::int64_t open_websockets() { return metrics->gauge_for("mb_ws_connections", "").value(); }

    void add_routes()
    {
        // Echoes every message until the connection ends.
        routes.add_websocket("/echo",
                             [this](const web::request&, web::request_context&, web::ws_connection& ws)
                                 -> net::awaitable<void> {
                                 for (;;) {
                                     auto msg = co_await ws.read();
                                     if (!msg)
                                         break;
                                     bool sent = co_await ws.write(std::move(*msg));
                                     if (!sent)
                                         break;
                                 }
                                 seen.end(ws);
                             });
        // Says what it was given, then waits for the end.
        routes.add_websocket("/rooms/{room}/live",
                             [](const web::request& up, web::request_context& ctx, web::ws_connection& ws)
                                 -> net::awaitable<void> {
                                 std::string target(up.target());
                                 co_await ws.write("room=" + ctx.params.at("room") + " route=" + ctx.route +
                                                   " target=" + target);
                                 for (;;) {
                                     auto msg = co_await ws.read();
                                     if (!msg)
                                         break;
                                 }
                             });
        // Closes at once, as an endpoint refusing a bad token would.
        routes.add_websocket("/refuse",
                             [](const web::request&, web::request_context&, web::ws_connection& ws)
                                 -> net::awaitable<void> { co_await ws.close(4001, "unauthenticated"); });
        routes.add_websocket("/throws",
                             [](const web::request&, web::request_context&, web::ws_connection&)
                                 -> net::awaitable<void> {
                                 throw std::runtime_error("handler bug");
                                 co_return;
                             });
        // The pattern of websocket.hpp, with a writer that finishes first (its `||` cancels the pending read).
        routes.add_websocket("/writer-first",
                             [](const web::request&, web::request_context&, web::ws_connection& ws)
                                 -> net::awaitable<void> {
                                 auto read_loop = [&ws]() -> net::awaitable<void> {
                                     for (;;) {
                                         auto msg = co_await ws.read();
                                         if (!msg)
                                             co_return;
                                     }
                                 };
                                 auto write_once = [&ws]() -> net::awaitable<void> {
                                     co_await ws.write("bye");
                                 };
                                 co_await (read_loop() || write_once());
                             });
        // Frames built once (text_frame) sent with send_frame_now, between messages written through
        // Beast: the client must see every one whole and in order. Then it says how many went out at once.
        routes.add_websocket("/frames",
                             [](const web::request&, web::request_context&, web::ws_connection& ws)
                                 -> net::awaitable<void> {
                                 int now = 0;
                                 for (std::size_t size : frame_sizes) {
                                     std::string payload(size, static_cast<char>('a' + size % 26));
                                     auto frame = web::text_frame(payload);
                                     if (ws.send_frame_now(frame))
                                         ++now;
                                     else if (!co_await ws.write(payload))
                                         co_return;
                                     if (!co_await ws.write("between " + std::to_string(size)))
                                         co_return;
                                 }
                                 co_await ws.write("sent at once: " + std::to_string(now));
                                 for (;;) {
                                     auto msg = co_await ws.read();
                                     if (!msg)
                                         break;
                                 }
                             });
        routes.add(http::verb::get, "/hello",
                   [](web::request& req, web::request_context&) -> net::awaitable<web::response> {
                       co_return web::json_response(req, http::status::ok, json::object{{"hello", "world"}});
                   });
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(websocket)

BOOST_AUTO_TEST_CASE(echo_round_trip)
{
    ws_server s;
    s.start();
    {
        test::ws_client c(s.port(), "/echo", {{"X-Request-Id", "ws-test-1"}});
        BOOST_TEST(std::string(c.handshake_headers()["X-Request-Id"]) == "ws-test-1");
        BOOST_TEST(test::eventually([&] { return s.open_websockets() == 1; }));
        c.send("hello");
        BOOST_TEST(c.read().value_or("<none>") == "hello");
        std::string big(60'000, 'x'); // under the default 64 KiB limit
        c.send(big);
        BOOST_TEST(c.read().value_or("<none>") == big);
        c.close();
        BOOST_TEST(c.closed_with().value_or(0) == 1000); // the server's answer to our close
    }
    BOOST_TEST(test::eventually([&] { return s.seen.has_ended(); }));
    BOOST_TEST(test::eventually([&] { return s.open_websockets() == 0; }));
}

BOOST_AUTO_TEST_CASE(text_frame_header_carries_the_length_in_the_shortest_form)
{
    auto header = [](std::size_t n) {
        auto f = web::text_frame(std::string(n, 'x'));
        BOOST_TEST(f.size() > n);
        return f.substr(0, f.size() - n);
    };
    BOOST_TEST(header(0) == std::string("\x81\x00", 2));
    BOOST_TEST(header(125) == std::string("\x81\x7d", 2));
    BOOST_TEST(header(126) == std::string("\x81\x7e\x00\x7e", 4));
    BOOST_TEST(header(65535) == std::string("\x81\x7e\xff\xff", 4));
    BOOST_TEST(header(65536) == std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

BOOST_AUTO_TEST_CASE(frames_sent_at_once_arrive_whole_and_in_order_between_written_messages)
{
    ws_server s;
    s.start();
    test::ws_client c(s.port(), "/frames");
    for (std::size_t size : frame_sizes) {
        auto got = c.read().value_or("<none>");
        BOOST_TEST(got.size() == size);
        BOOST_TEST((got == std::string(size, static_cast<char>('a' + size % 26))));
        BOOST_TEST(c.read().value_or("<none>") == "between " + std::to_string(size));
    }
    // The fast path is really taken: the first frame meets an idle plain connection (later ones may meet
    // a backlog past the high-water mark, and are then written through Beast).
    auto last = c.read().value_or("<none>");
    BOOST_TEST_REQUIRE(last.starts_with("sent at once: "));
    BOOST_TEST(std::stoi(last.substr(14)) >= 1);
}

BOOST_AUTO_TEST_CASE(path_params_route_and_query)
{
    ws_server s;
    s.start();
    test::ws_client c(s.port(), "/rooms/42/live?after=7");
    BOOST_TEST(c.read().value_or("<none>") == "room=42 route=/rooms/{room}/live target=/rooms/42/live?after=7");
}

BOOST_AUTO_TEST_CASE(plain_get_on_a_websocket_route_is_426)
{
    ws_server s;
    s.start();
    auto r = test::http_call(s.port(), http::verb::get, "/echo");
    BOOST_TEST(r.status == 426U);
    BOOST_TEST(r.header("Upgrade") == "websocket");
    BOOST_TEST(r.header("Content-Type") == "application/problem+json");
    BOOST_TEST(r.json().at("code").as_string() == "UPGRADE_REQUIRED");
    // A route that does not exist stays a 404, and other methods a 405 naming GET.
    BOOST_TEST(test::http_call(s.port(), http::verb::get, "/nowhere").status == 404U);
    auto post = test::http_call(s.port(), http::verb::post, "/echo", "{}");
    BOOST_TEST(post.status == 405U);
    BOOST_TEST(post.header("Allow").find("GET") != std::string::npos);
    try {
        test::ws_client c(s.port(), "/nowhere");
        BOOST_FAIL("the handshake succeeded on a missing route");
    } catch (const test::ws_handshake_error& e) {
        BOOST_TEST(e.status() == 404U);
    }
}

BOOST_AUTO_TEST_CASE(upgrade_on_an_http_route_is_a_normal_request)
{
    ws_server s;
    s.start();
    try {
        test::ws_client c(s.port(), "/hello");
        BOOST_FAIL("the handshake succeeded on an HTTP route");
    } catch (const test::ws_handshake_error& e) {
        BOOST_TEST(e.status() == 200U);
        BOOST_TEST(e.body().find("world") != std::string::npos);
    }
    // The connection served it like any request: the server still answers.
    BOOST_TEST(test::http_call(s.port(), http::verb::get, "/hello").status == 200U);
}

namespace {

/** Runs router::dispatch on a fresh io_context; the answer's status, or the thrown problem's. */
unsigned dispatch_status(const web::router& r, web::request& req, web::request_context& ctx)
{
    net::io_context ioc;
    std::optional<unsigned> status;
    net::co_spawn(ioc, r.dispatch(req, ctx), [&](std::exception_ptr e, web::response res) {
        try {
            if (e)
                std::rethrow_exception(e);
            status = res.result_int();
        } catch (const web::problem& p) {
            status = static_cast<unsigned>(p.status());
        }
    });
    ioc.run_for(5s);
    BOOST_REQUIRE(status.has_value());
    return *status;
}

web::request upgrade_request(std::string target)
{
    web::request req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(http::field::sec_websocket_version, "13");
    return req;
}

} // namespace

BOOST_AUTO_TEST_CASE(router_hands_upgrades_to_websocket_routes_only)
{
    web::router r;
    auto ws_handler = [](const web::request&, web::request_context&, web::ws_connection&) -> net::awaitable<void> {
        co_return;
    };
    r.add_websocket("/live/{id}", ws_handler);
    BOOST_CHECK_THROW(r.add_websocket("/live/{id}", ws_handler), std::invalid_argument);
    BOOST_CHECK_THROW(r.add_websocket("no-slash", ws_handler), std::invalid_argument);
    // A route may serve both: a plain GET gets the HTTP handler, an upgrade the WebSocket.
    r.add_websocket("/both", ws_handler);
    r.add(http::verb::get, "/both", [](web::request& req, web::request_context&) -> net::awaitable<web::response> {
        co_return web::response{http::status::ok, req.version()};
    });

    web::request up = upgrade_request("/live/5?x=1");
    web::request_context ctx;
    BOOST_TEST(dispatch_status(r, up, ctx) == 101U);
    BOOST_TEST(ctx.websocket != nullptr);
    BOOST_TEST(ctx.route == "/live/{id}");
    BOOST_TEST(ctx.params.at("id") == "5");

    web::request plain{http::verb::get, "/live/5", 11};
    web::request_context plain_ctx;
    BOOST_TEST(dispatch_status(r, plain, plain_ctx) == 426U);
    BOOST_TEST(plain_ctx.websocket == nullptr);
    web::request head{http::verb::head, "/live/5", 11};
    web::request_context head_ctx;
    BOOST_TEST(dispatch_status(r, head, head_ctx) == 426U);

    web::request both_plain{http::verb::get, "/both", 11};
    web::request_context both_ctx;
    BOOST_TEST(dispatch_status(r, both_plain, both_ctx) == 200U);
    BOOST_TEST(both_ctx.websocket == nullptr);
    web::request both_up = upgrade_request("/both");
    web::request_context both_up_ctx;
    BOOST_TEST(dispatch_status(r, both_up, both_up_ctx) == 101U);
    BOOST_TEST(both_up_ctx.websocket != nullptr);

    // match() (for tests and adapters) gives a handler that answers 426 on a WebSocket-only route.
    web::request_context match_ctx;
    const web::handler* h = r.match(http::verb::get, "/live/5", match_ctx);
    BOOST_REQUIRE(h != nullptr);
    net::io_context ioc;
    bool refused = false;
    net::co_spawn(ioc, (*h)(plain, match_ctx), [&](std::exception_ptr e, web::response) {
        try {
            if (e)
                std::rethrow_exception(e);
        } catch (const web::problem& p) {
            refused = p.code() == "UPGRADE_REQUIRED";
        }
    });
    ioc.run_for(5s);
    BOOST_TEST(refused);
}

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

BOOST_AUTO_TEST_CASE(tls_round_trip)
{
    test::pem_files files;
    ws_server s;
    web::server_options o;
    o.tls = web::load_server_tls(files.cert().string(), files.key().string());
    s.start(o);
    test::ws_client c(s.port(), "/echo", {}, true);
    c.send("over tls");
    BOOST_TEST(c.read().value_or("<none>") == "over tls");
    c.close();
    BOOST_TEST(c.closed_with().value_or(0) == 1000);
    BOOST_TEST(test::eventually([&] { return s.seen.has_ended(); }));
}

BOOST_AUTO_TEST_SUITE_END()
