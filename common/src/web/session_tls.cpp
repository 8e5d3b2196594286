#include "session_impl.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace common::web {

namespace {
using tls_stream = boost::asio::ssl::stream<beast::tcp_stream>;

} // namespace

net::awaitable<std::optional<tls_handoff>> run_tls_session(std::shared_ptr<server::impl> srv,
                                                           std::shared_ptr<session_state> st,
                                                           boost::asio::ip::tcp::socket socket)
{
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    // The context of the moment (a reload may replace it); OpenSSL keeps it as long as the stream needs it.
    auto ctx = srv->current_tls();
    tls_stream stream(beast::tcp_stream(std::move(socket)), *ctx);
    st->close = [&stream] {
        boost::system::error_code ignored;
        beast::get_lowest_layer(stream).socket().close(ignored);
    };
    detail::close_hook_guard guard{*st};
    beast::get_lowest_layer(stream).expires_after(srv->opts.header_timeout);
    auto [hec] = co_await stream.async_handshake(boost::asio::ssl::stream_base::server,
                                                 net::as_tuple(net::use_awaitable));
    if (hec)
        co_return std::nullopt;
    auto upgrade = co_await detail::serve_http(*srv, *st, stream, remote);
    if (upgrade)
        co_return tls_handoff{std::move(stream), std::move(*upgrade)};
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(net::as_tuple(net::use_awaitable));
    co_return std::nullopt;
}

} // namespace common::web
