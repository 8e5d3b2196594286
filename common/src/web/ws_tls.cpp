// The WebSocket session over TLS (the stream template instantiated here only).

#include "ws_impl.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace common::web {

net::awaitable<void> run_tls_websocket(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st,
                                       tls_handoff h)
{
    using tls_stream = boost::asio::ssl::stream<beast::tcp_stream>;
    return detail::run_websocket<tls_stream>(std::move(srv), std::move(st), std::move(h.stream), std::move(h.up));
}

} // namespace common::web
