#pragma once

#include "common/web/types.hpp"

#include <boost/beast/http/verb.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace common::web {

/**
 * Maps (method, path) to a handler. Patterns are literal segments and `{name}` parameters, one per
 * segment: "/v1/homes/{homeId}/members/{userId}". Literal segments win over parameters, so
 * "/v1/me/sessions" and "/v1/me/{x}" can coexist. A path with no route is a 404 `NOT_FOUND`; a known
 * path with another method is a 405 `METHOD_NOT_ALLOWED` with `Allow`.
 *
 * WebSocket routes (`add_websocket`) share the same patterns and parameters. On such a route a GET with
 * `Upgrade: websocket` is accepted: dispatch sets `ctx.websocket` and answers 101, and the server does the
 * handshake and runs the ws_handler (common/web/websocket.hpp). A plain GET there is 426
 * `UPGRADE_REQUIRED` (unless the route also has an HTTP GET handler, which then serves it). An upgrade
 * request on a route without a WebSocket handler is served as an ordinary request.
 *
 * Thread-safety: build it (add) before the server starts; afterwards `dispatch` may run on any
 * number of threads at once.
 */
class router
{
public:
    router();
    ~router();
    router(router&&) noexcept;
    router& operator=(router&&) noexcept;

    void add(http::verb method, std::string_view pattern, handler h);

    /** A WebSocket endpoint at `pattern` (see above); throws std::invalid_argument like add. `admit`,
        when set, runs first and may refuse the upgrade with a problem (types.hpp). */
    void add_websocket(std::string_view pattern, ws_handler h, ws_admit admit = {});

    /** Finds the route for `req`, fills `ctx.params` and `ctx.route`, and runs it. */
    net::awaitable<response> dispatch(request& req, request_context& ctx) const;

    /** The handler for the route, or nullptr; throws `problem` 404/405 like dispatch. For tests. */
    const handler* match(http::verb method, std::string_view path, request_context& ctx) const;

    /** One registered route: a method and pattern (`add`), or a WebSocket endpoint (`add_websocket`,
        served to GET upgrades; `method` is GET). HEAD, served wherever GET is, is not listed. */
    struct route_entry
    {
        http::verb method;
        std::string pattern;
        bool websocket = false;
    };

    /** Every registered route, sorted by pattern then method: what the service serves, for the
        tests that hold the API description (docs/openapi.yaml) to it. */
    std::vector<route_entry> routes() const;

    /** Adapts the router to the server's single-handler interface. The router must outlive it. */
    handler as_handler() const;

private:
    struct node;
    /** The node serving (method, path): fills ctx.params and ctx.route; throws 404/405. */
    const node& resolve(http::verb method, std::string_view path, request_context& ctx) const;

    std::unique_ptr<node> root_;
};

/** The path part of a request target: "/a/b?x=1" → "/a/b". */
std::string_view target_path(std::string_view target);

} // namespace common::web
