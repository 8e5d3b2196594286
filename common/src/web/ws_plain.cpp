// The WebSocket session over plain TCP (the stream template instantiated here only).

#include "ws_impl.hpp"

#include <boost/beast/core/tcp_stream.hpp>

namespace common::web {

net::awaitable<void> run_plain_websocket(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st,
                                         plain_handoff h)
{
    return detail::run_websocket<net::ip::tcp::socket>(std::move(srv), std::move(st), std::move(h.stream),
                                                       std::move(h.up));
}

} // namespace common::web
