#pragma once

// What the websocket test files share: a test server with WebSocket routes that report to the test body.

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

namespace websocket_harness {

/** Payload sizes around the three lengths of a frame header (7 bits, 16 bits, 64 bits). */
inline constexpr std::size_t frame_sizes[] = {0, 5, 125, 126, 300, 65535, 65536, 70000};

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

/**
 * The test server with the WebSocket routes below; `seen` is what they report to the test body.
 * The routes run on test::test_server's thread; construct and query from the test's thread (`seen`
 * is guarded by its mutex).
 */
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

} // namespace websocket_harness
