#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common::web {

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

/** Path parameters captured by the router, in pattern order (`{homeId}` → {"homeId", "173"}). */
class path_params
{
public:
    void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
    /** The value of `name`; throws std::out_of_range for a name the route does not have. */
    const std::string& at(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

struct request_context;
class ws_connection; // common/web/websocket.hpp

/**
 * A WebSocket endpoint (router::add_websocket). It runs on the connection's strand once the handshake
 * is done, and the connection lasts as long as it does; see common/web/websocket.hpp.
 */
using ws_handler =
    std::function<net::awaitable<void>(const request& upgrade, request_context& ctx, ws_connection& ws)>;

/**
 * Runs before a WebSocket upgrade is accepted (router::add_websocket): it may refuse the connection by
 * throwing a `problem`, which is answered as an ordinary response (no handshake), and may leave in
 * `ctx.admitted` what the endpoint needs (held until the endpoint returns).
 */
using ws_admit = std::function<net::awaitable<void>(request& upgrade, request_context& ctx)>;

/**
 * What a handler knows about the request beyond the message itself.
 * Lives as long as the request is being handled; owned by the connection's session.
 */
struct request_context
{
    std::string request_id;
    boost::asio::ip::tcp::endpoint remote;
    path_params params;
    std::string route; // the matched pattern, e.g. "/v1/homes/{homeId}" (metrics label)
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    /**
     * Set by the router when it accepts a WebSocket upgrade for a WebSocket route: the server then
     * does the handshake and runs this handler, instead of writing the (101) response it got.
     */
    std::shared_ptr<const ws_handler> websocket;
    /** What a ws_admit step hands to its WebSocket endpoint; released with the context. */
    std::shared_ptr<void> admitted;
};

/**
 * A request handler. It runs on the connection's strand and may co_await; blocking work belongs on
 * a worker pool. It answers with a response or throws `problem` (or anything else, which becomes a
 * 500 whose detail reveals nothing).
 */
using handler = std::function<net::awaitable<response>(request&, request_context&)>;

} // namespace common::web
