#pragma once

// The emulator's routes, one file per area. Handlers are plain synchronous functions over `state` (the
// model is in memory, nothing blocks); `sync_route` adapts them to the router. They throw `sim_error`,
// which the app renders as MODE errors in one place.

#include "faults.hpp"
#include "render.hpp"
#include "state.hpp"
#include "webhook_module.hpp"

#include "common/web/router.hpp"

#include <boost/asio/awaitable.hpp>

#include <utility>

namespace modesim {

using common::web::request_context;
using common::web::router;

namespace detail {
// A coroutine taking the handler by value: it lives in the frame, so nothing dangles.
template <class F>
net::awaitable<response> run_sync(F f, request& req, request_context& ctx)
{
    co_return f(req, ctx);
}
} // namespace detail

/** A router handler running `f(req, ctx) -> response` at once. */
template <class F>
common::web::handler sync_route(F f)
{
    return [f = std::move(f)](request& req, request_context& ctx) { return detail::run_sync(f, req, ctx); };
}

/** The caller of a MODE request (its `Authorization` header); throws 401. */
principal caller(const state& st, const request& req);

void add_user_routes(router& r, state& st);
void add_home_routes(router& r, state& st);
void add_device_routes(router& r, state& st);
/** The /_sim/ control surface (no auth). */
void add_sim_routes(router& r, state& st, fault_table& faults, webhook_module& webhooks);
/** The device command channel and the app event stream (routes_ws.cpp). */
void add_websocket_routes(router& r, state& st);
/** Before a websocket handshake the router accepted: the caller must be allowed on that socket; throws
    sim_error (401/403) otherwise, which refuses the handshake with MODE's error answer. */
void check_websocket_upgrade(const state& st, const request& req, const request_context& ctx);

} // namespace modesim
