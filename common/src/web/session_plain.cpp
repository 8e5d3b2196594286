#include "session_impl.hpp"

#include <boost/beast/core/tcp_stream.hpp>

namespace common::web {

net::awaitable<std::optional<plain_handoff>> run_plain_session(std::shared_ptr<server::impl> srv,
                                                               std::shared_ptr<session_state> st,
                                                               boost::asio::ip::tcp::socket socket)
{
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    beast::tcp_stream stream(std::move(socket));
    st->close = [&stream] {
        boost::system::error_code ignored;
        stream.socket().close(ignored);
    };
    detail::close_hook_guard guard{*st};
    auto upgrade = co_await detail::serve_http(*srv, *st, stream, remote);
    if (upgrade)
        co_return plain_handoff{stream.release_socket(), std::move(*upgrade)};
    // Half-close so the peer reads the last answer before seeing the end of the stream.
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    co_return std::nullopt;
}

} // namespace common::web
