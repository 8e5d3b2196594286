#pragma once

// What ws_session (ws_impl.hpp) uses whatever its stream type: why a connection ended (for its log
// line), the TCP socket under a stream (closed to cut a stalled connection), and the response headers
// Beast's handshake owns. Pure functions: safe on any thread; socket_of's result belongs to the
// connection's strand.

#include "common/net/aliases.hpp"

#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/field.hpp>

namespace common::web::detail {

/** Why a WebSocket connection ended, for its log line. */
enum class ws_end { none, peer, server, shutdown, timeout, too_big, error };

inline const char* to_string(ws_end e)
{
    switch (e) {
    case ws_end::peer: return "peer";
    case ws_end::server: return "server";
    case ws_end::shutdown: return "shutdown";
    case ws_end::timeout: return "timeout";
    case ws_end::too_big: return "too_big";
    case ws_end::error: return "error";
    case ws_end::none: break;
    }
    return "none";
}

/** The TCP socket under `ws` (a plain socket, or the one inside beast::basic_stream). */
template <class WsStream>
auto& socket_of(WsStream& ws)
{
    auto& low = beast::get_lowest_layer(ws);
    if constexpr (requires { low.socket(); })
        return low.socket();
    else
        return low;
}

/** Response headers of the handler's 101 that must not reach the handshake response (Beast sets them). */
inline bool is_handshake_field(http::field f)
{
    return f == http::field::connection || f == http::field::upgrade || f == http::field::content_length ||
           f == http::field::transfer_encoding || f == http::field::sec_websocket_accept ||
           f == http::field::sec_websocket_extensions || f == http::field::sec_websocket_protocol ||
           f == http::field::sec_websocket_version;
}

} // namespace common::web::detail
