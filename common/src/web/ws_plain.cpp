// The WebSocket session over plain TCP (the stream template instantiated here only).

#include "ws_impl.hpp"

#include <boost/beast/core/tcp_stream.hpp>

namespace common::web {

net::awaitable<void> run_plain_websocket(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st,
                                         beast::tcp_stream stream, upgrade_request up)
{
    co_await detail::run_websocket<beast::tcp_stream>(std::move(srv), std::move(st), std::move(stream),
                                                      std::move(up));
}

} // namespace common::web
