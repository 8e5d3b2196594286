// The websockets: the device command channel and the app event stream.
//
//   GET /devices/{d}/command    (WebSocket) the device's own key → one text frame {action, parameters} per command
//   GET /userSession/websocket  (WebSocket) a user key → one text frame per event ("event as delivered") raised
//                               afterwards in a home the user is a member of when it is raised
//
// Choices where MODE is silent:
// - The key comes from `Authorization: ModeCloud <key>` or, when there is no such header, `?authToken=<key>`
//   (browsers cannot set headers on a websocket).
// - It is checked before the handshake, as MODE's API server checks every request: a refused key gets the
//   REST answer and no socket (401 AUTHORIZATION_REQUIRED or UNAUTHENTICATED_CLIENT; 403 INSUFFICIENT_AUTH for
//   a key of the wrong kind, PERMISSION_DENIED for another device's key). Clients see a failed handshake and
//   back off, as with any 401. A plain GET (no upgrade) is 426 UPGRADE_REQUIRED.
// - Frames from the peer are read and ignored (devices raise events with PUT /devices/{d}/event).
// - An event stream whose key stops working (DELETE /userSession, the user deleted, /_sim/reset) is closed
//   with 1008; /_sim/reset closes the command channels the same way. A peer more than 64 frames behind is
//   closed with 1008 "too slow" (ws_outbox.hpp). Shutdown closes every socket with 1001 (the server core).

#include "access.hpp"
#include "body.hpp"
#include "routes.hpp"
#include "ws_outbox.hpp"

#include "common/web/websocket.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <functional>
#include <optional>

namespace modesim {

namespace {

using common::web::ws_connection;
using namespace boost::asio::experimental::awaitable_operators;

constexpr std::string_view command_route = "/devices/{deviceId}/command";
constexpr std::string_view events_route = "/userSession/websocket";

/** The caller of a websocket: the Authorization header, else ?authToken=. Throws 401 like `caller`. */
principal websocket_caller(const state& st, const request& req)
{
    if (req.count(http::field::authorization) != 0)
        return caller(st, req);
    params q = query_params(req);
    auto token = q.find("authToken");
    if (token == q.end() || token->second.empty())
        throw sim_error(http::status::unauthorized, reason::authorization_required);
    auto p = st.find_key(token->second);
    if (!p)
        throw sim_error(http::status::unauthorized, reason::unauthenticated_client);
    return *p;
}

/** Runs `f` when the scope ends: unregisters a socket from the state however the handler leaves. */
struct on_exit
{
    std::function<void()> f;
    ~on_exit() { f(); }
};

net::awaitable<void> ignore_reads(ws_connection& ws)
{
    for (;;) {
        auto frame = co_await ws.read(); // not inside the condition: GCC 12 miscompiles that
        if (!frame)
            co_return;
    }
}

/** The socket's life once registered: frames out from the outbox, frames in ignored, until either ends. */
net::awaitable<void> serve(ws_connection& ws, ws_outbox& outbox)
{
    co_await (ignore_reads(ws) || outbox.write_loop(ws));
}

net::awaitable<void> command_channel(state& st, const request& up, request_context& ctx, ws_connection& ws)
{
    auto outbox = std::make_shared<ws_outbox>(ws.executor());
    std::optional<std::uint64_t> id;
    try {
        id = st.open_command_channel(websocket_caller(st, up), path_id(ctx, "deviceId", reason::device_not_found),
                                     outbox);
    } catch (const sim_error&) {
        // The key or the device went away between the check before the handshake and now.
    }
    if (!id) {
        co_await ws.close(close_code::policy_violation, "unauthenticated");
        co_return;
    }
    on_exit unregister{[&st, channel = *id] { st.close_command_channel(channel); }};
    co_await serve(ws, *outbox);
}

net::awaitable<void> event_stream(state& st, const request& up, ws_connection& ws)
{
    auto outbox = std::make_shared<ws_outbox>(ws.executor());
    std::optional<std::uint64_t> id;
    try {
        id = st.open_event_stream(websocket_caller(st, up), outbox);
    } catch (const sim_error&) {
        // Revoked between the check before the handshake and now.
    }
    if (!id) {
        co_await ws.close(close_code::policy_violation, "unauthenticated");
        co_return;
    }
    on_exit unregister{[&st, stream = *id] { st.close_event_stream(stream); }};
    co_await serve(ws, *outbox);
}

} // namespace

void check_websocket_upgrade(const state& st, const request& req, const request_context& ctx)
{
    principal p = websocket_caller(st, req);
    if (ctx.route == command_route)
        require_device_self(p, path_id(ctx, "deviceId", reason::device_not_found));
    else if (ctx.route == events_route)
        require_user(p);
}

void add_websocket_routes(router& r, state& st)
{
    r.add_websocket(command_route, [&st](const request& up, request_context& ctx, ws_connection& ws) {
        return command_channel(st, up, ctx, ws);
    });
    r.add_websocket(events_route, [&st](const request& up, request_context&, ws_connection& ws) {
        return event_stream(st, up, ws);
    });
}

} // namespace modesim
