// The WebSocket session over plain TCP (the stream template instantiated here only).

#include "ws_impl.hpp"

#include <boost/beast/core/tcp_stream.hpp>

namespace common::web {

net::awaitable<void> run_plain_websocket(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st,
                                         beast::tcp_stream stream, upgrade_request up)
{
    // Over the bare socket: Beast's WebSocket keeps its own timers, so the stream's (and their memory,
    // a few KiB per idle connection) are not needed once upgraded.
    auto socket = stream.release_socket();
    {
        auto done = std::move(stream); // its state (timers included) goes now, not when the connection ends
    }
    co_await detail::run_websocket<net::ip::tcp::socket>(std::move(srv), std::move(st), std::move(socket),
                                                         std::move(up));
}

} // namespace common::web
