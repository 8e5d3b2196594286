// The plain-TCP connection, and the parts of `connection` that do not depend on the stream type.

#include "client/connection.hpp"
#include "client/stream_connection.hpp"

#include <boost/asio/connect.hpp>

#include <poll.h>

namespace common::client::detail {

net::awaitable<boost::system::error_code> connection::connect(const tcp::resolver::results_type& eps
)
{
    auto [ec, ep] = co_await net::async_connect(socket(), eps, net::as_tuple(net::use_awaitable));
    if (!ec) {
        // Requests are written whole; do not let Nagle hold back their last segment.
        boost::system::error_code ignored;
        socket().set_option(tcp::no_delay(true), ignored);
    }
    co_return ec;
}

void connection::close() noexcept
{
    boost::system::error_code ignored;
    socket().close(ignored);
}

bool connection::unusable() noexcept
{
    auto& s = socket();
    if (!s.is_open())
        return true;
    // A zero-timeout poll sees what the peer did while the connection sat idle, without
    // consuming anything: FIN (RDHUP), RST (ERR/HUP), or bytes nobody asked for (IN; for TLS
    // that is typically a close_notify alert). Any of these makes a request on it unsafe.
    pollfd p{};
    p.fd = s.native_handle();
    p.events = POLLIN | POLLRDHUP;
    // (poll failing is just as disqualifying as an event.)
    return ::poll(&p, 1, 0) != 0;
}

namespace {

/** Plain HTTP over TCP. */
class plain_connection final : public stream_connection<tcp::socket>
{
public:
    using stream_connection::stream_connection;

    net::awaitable<boost::system::error_code> handshake() override
    {
        co_return boost::system::error_code{};
    }
    std::string certificate_problem() override { return {}; }

protected:
    tcp::socket& socket() noexcept override { return stream_; }
};

} // namespace

std::shared_ptr<connection> make_plain_connection(net::any_io_executor strand)
{
    return std::make_shared<plain_connection>(std::move(strand));
}

} // namespace common::client::detail
