// websocket: which requests are upgraded, by the server and by the router, and what the others get.

#include "support/websocket_harness.hpp"

using namespace websocket_harness;

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

BOOST_AUTO_TEST_SUITE(websocket)

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

BOOST_AUTO_TEST_SUITE_END()
