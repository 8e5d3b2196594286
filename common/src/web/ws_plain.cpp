// The WebSocket session over plain TCP (the stream template instantiated here only), its writes coalesced.

#include "coalescing_stream.hpp"
#include "ws_impl.hpp"

#include <boost/beast/core/tcp_stream.hpp>

namespace common::web {

net::awaitable<void> run_plain_websocket(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st,
                                         plain_handoff h)
{
    // Frames written while a send is under way go out together in the next one (coalescing_stream.hpp).
    return detail::run_websocket<detail::coalescing_stream<net::ip::tcp::socket>>(std::move(srv), std::move(st), std::move(h.stream),
                                                       std::move(h.up));
}

} // namespace common::web
