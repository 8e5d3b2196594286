// An HTTP request as the server reads it (common/src/web/session_impl.hpp): Beast's request parser with
// the server's own limits (server_options: headers 16 KiB, body 1 MiB, target 8 KiB), then the router
// with the gateway's and webhook-ingest's route table (its patterns, WebSocket endpoint included):
// matching, path parameters, 404/405 problems and their answers.
//
// Input: the bytes a client sends on a fresh connection.
#include "common/web/problem.hpp"
#include "common/web/router.hpp"
#include "common/web/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

using namespace common::aliases;
namespace web = common::web;

namespace {

web::router make_router()
{
    web::router r;
    // Each handler answers with what it captured, as routes do (path parameters by name).
    web::handler echo = [](web::request& req, web::request_context& ctx) -> net::awaitable<web::response> {
        std::string out = ctx.route;
        for (const auto& [k, v] : ctx.params.items())
            out += " " + k + "=" + v + " " + ctx.params.at(k);
        web::response res{http::status::ok, req.version()};
        res.body() = std::move(out);
        res.prepare_payload();
        co_return res;
    };
    using v = http::verb;
    for (auto p : {"/v1/auth/register", "/v1/auth/verify-email", "/v1/auth/resend-verification", "/v1/auth/login",
                   "/v1/auth/logout", "/v1/auth/forgot-password", "/v1/auth/reset-password", "/v1/auth/accept-invite",
                   "/v1/homes", "/v1/homes/{homeId}/members", "/v1/invitations/accept", "/v1/homes/{homeId}/devices",
                   "/v1/mode/events"})
        r.add(v::post, p, echo);
    for (auto p : {"/v1/me", "/v1/me/sessions", "/v1/homes", "/v1/homes/{homeId}", "/v1/homes/{homeId}/members",
                   "/v1/homes/{homeId}/devices", "/v1/devices/{deviceId}", "/v1/homes/{homeId}/events", "/healthz",
                   "/readyz", "/metrics"})
        r.add(v::get, p, echo);
    for (auto p : {"/v1/me/sessions/{id}", "/v1/homes/{homeId}", "/v1/homes/{homeId}/members/{userId}",
                   "/v1/devices/{deviceId}"})
        r.add(v::delete_, p, echo);
    r.add(v::patch, "/v1/homes/{homeId}", echo);
    r.add(v::patch, "/v1/devices/{deviceId}", echo);
    r.add(v::put, "/v1/devices/{deviceId}/command", echo);
    r.add_websocket("/v1/events", [](const web::request&, web::request_context&, web::ws_connection&) -> net::awaitable<void> {
        co_return;
    });
    return r;
}

const web::router& routes()
{
    static const web::router r = make_router();
    return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const web::server_options limits;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    parser.body_limit(limits.body_limit);
    parser.eager(true);
    beast::error_code ec;
    std::size_t used = 0;
    while (used < size && !parser.is_done()) {
        auto n = parser.put(net::buffer(data + used, size - used), ec);
        if (ec || n == 0)
            break;
        used += n;
    }
    if (!ec && !parser.is_done())
        parser.put_eof(ec);
    if (ec || !parser.is_done())
        return 0; // answered 400/413/431 and closed by the server
    // The server's own refusals before a handler runs.
    if (parser.get().target().size() > limits.url_limit)
        return 0;
    if (parser.get().count(http::field::transfer_encoding) != 0 && !parser.chunked())
        return 0;
    web::request req = parser.release();

    net::io_context ioc;
    web::request_context ctx;
    web::response res;
    bool answered = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            try {
                res = co_await routes().dispatch(req, ctx);
            } catch (const web::problem& p) {
                res = web::make_problem_response(p, req.version(), false);
            }
            answered = true;
        },
        [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // anything but a problem would be a 500
        });
    ioc.run();
    if (!answered)
        std::abort();
    const auto status = res.result_int();
    if (status == 200 && ctx.route.empty())
        std::abort(); // a handler ran without its route known (metrics label)
    if (status == 405 && res[http::field::allow].empty())
        std::abort();
    return 0;
}
