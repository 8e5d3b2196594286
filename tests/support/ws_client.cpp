#include "support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <deque>
#include <functional>

namespace test {

using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

ws_handshake_error::ws_handshake_error(unsigned status, std::string body, const std::string& what)
    : std::runtime_error(what)
    , status_(status)
    , body_(std::move(body))
{
}

/** The stream-independent part: the client's io_context and what it has received so far. */
struct ws_client::impl
{
    virtual ~impl() = default;

    virtual void start_read() = 0;
    virtual error_code do_write(const std::string& text, std::chrono::milliseconds timeout) = 0;
    virtual error_code do_close(std::uint16_t code, std::chrono::milliseconds timeout) = 0;
    virtual void shut() = 0;

    /** Runs the io_context until `done()` or the deadline; returns done(). */
    bool run_until(std::chrono::steady_clock::time_point deadline, const std::function<bool()>& done)
    {
        while (!done()) {
            ioc.restart();
            if (ioc.run_one_until(deadline) == 0)
                break; // out of time, or nothing left to wait for
        }
        return done();
    }

    net::io_context ioc;
    std::deque<std::string> inbox;
    bool reading = false;
    bool ended = false;
    std::optional<std::uint16_t> close_code;
    http::fields handshake_headers;
};

namespace {

template <class Stream>
struct client_impl final : ws_client::impl
{
    websocket::stream<Stream> ws;
    beast::flat_buffer buffer;

    template <class... Args>
    explicit client_impl(Args&&... args)
        : ws(ioc.get_executor(), std::forward<Args>(args)...)
    {
    }

    ~client_impl() override { shut(); }
    client_impl(const client_impl&) = delete;
    client_impl& operator=(const client_impl&) = delete;

    void note_close_code()
    {
        if (!close_code && ws.reason().code != websocket::close_code::none)
            close_code = static_cast<std::uint16_t>(ws.reason().code);
    }

    void start_read() override
    {
        if (reading || ended)
            return;
        reading = true;
        ws.async_read(buffer, [this](error_code ec, std::size_t n) {
            reading = false;
            if (ec) {
                ended = true;
                // The close frame may have arrived even when the teardown after it failed (the server
                // dropped the TCP connection first), so the reason counts whatever the error.
                note_close_code();
                return;
            }
            inbox.push_back(beast::buffers_to_string(buffer.data()));
            buffer.consume(n);
        });
    }

    error_code do_write(const std::string& text, std::chrono::milliseconds timeout) override
    {
        std::optional<error_code> result;
        ws.text(true);
        ws.async_write(net::buffer(text), [&result](error_code ec, std::size_t) { result = ec; });
        if (!run_until(std::chrono::steady_clock::now() + timeout, [&] { return result.has_value(); }))
            return beast::error::timeout;
        return *result;
    }

    error_code do_close(std::uint16_t code, std::chrono::milliseconds timeout) override
    {
        if (ended || !ws.is_open())
            return {};
        std::optional<error_code> result;
        ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code)),
                       [&result](error_code ec) { result = ec; });
        // A pending read ends too, with `closed`, once the server's answer arrives.
        bool done = run_until(std::chrono::steady_clock::now() + timeout,
                              [&] { return result.has_value() && !reading; });
        note_close_code();
        ended = true;
        if (!done)
            return beast::error::timeout;
        return *result;
    }

    void shut() override
    {
        // Drop the socket and let the pending handlers (they point into this object) finish now.
        error_code ignored;
        beast::get_lowest_layer(ws).socket().close(ignored);
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(200));
        ended = true;
    }
};

using plain_stream = beast::tcp_stream;
using tls_stream = ssl::stream<beast::tcp_stream>;

template <class Stream>
void handshake(client_impl<Stream>& c, unsigned short port, const std::string& target, const header_list& headers,
               std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto& lowest = beast::get_lowest_layer(c.ws);
    std::optional<error_code> step;
    auto finish = [&](const char* what) {
        bool done = c.run_until(deadline, [&] { return step.has_value(); });
        if (!done)
            throw std::runtime_error(std::string("WebSocket ") + what + ": timed out");
        if (*step)
            throw std::runtime_error(std::string("WebSocket ") + what + ": " + step->message());
        step.reset();
    };
    lowest.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port), [&step](error_code ec) { step = ec; });
    finish("connect");
    if constexpr (std::is_same_v<Stream, tls_stream>) {
        c.ws.next_layer().async_handshake(ssl::stream_base::client, [&step](error_code ec) { step = ec; });
        finish("TLS handshake");
    }
    c.ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
        for (const auto& [name, value] : headers)
            req.set(name, value);
    }));
    websocket::response_type res;
    c.ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), target, [&step](error_code ec) { step = ec; });
    bool done = c.run_until(deadline, [&] { return step.has_value(); });
    if (!done)
        throw std::runtime_error("WebSocket handshake: timed out");
    if (*step)
        throw ws_handshake_error(res.result_int(), res.body(),
                                 "WebSocket handshake refused: HTTP " + std::to_string(res.result_int()) + " " +
                                     step->message() + " " + res.body().substr(0, 200));
    c.handshake_headers = res.base();
}

} // namespace

ws_client::ws_client(unsigned short port, const std::string& target, const header_list& headers, bool tls,
                     std::chrono::milliseconds timeout)
{
    if (tls) {
        // The test's self-signed certificate: no verification.
        static ssl::context ctx{ssl::context::tls_client};
        auto c = std::make_unique<client_impl<tls_stream>>(ctx);
        handshake(*c, port, target, headers, timeout);
        impl_ = std::move(c);
    } else {
        auto c = std::make_unique<client_impl<plain_stream>>();
        handshake(*c, port, target, headers, timeout);
        impl_ = std::move(c);
    }
}

ws_client::~ws_client() = default;

void ws_client::send(const std::string& text, std::chrono::milliseconds timeout)
{
    auto ec = impl_->do_write(text, timeout);
    if (ec)
        throw std::runtime_error("WebSocket send: " + ec.message());
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds timeout)
{
    auto& c = *impl_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    // A read that timed out stays pending: its message is the next one, never lost.
    c.start_read();
    c.run_until(deadline, [&c] { return !c.inbox.empty() || c.ended; });
    if (c.inbox.empty())
        return std::nullopt;
    std::string out = std::move(c.inbox.front());
    c.inbox.pop_front();
    return out;
}

void ws_client::close(std::uint16_t code, std::chrono::milliseconds timeout)
{
    auto ec = impl_->do_close(code, timeout);
    if (ec && ec != websocket::error::closed && ec != net::error::eof)
        throw std::runtime_error("WebSocket close: " + ec.message());
}

std::optional<std::uint16_t> ws_client::closed_with() const
{
    return impl_->close_code;
}

bool ws_client::wait_closed(std::chrono::milliseconds timeout)
{
    auto& c = *impl_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!c.ended && std::chrono::steady_clock::now() < deadline) {
        c.start_read();
        c.run_until(deadline, [&c] { return !c.reading || c.ended; });
    }
    return c.ended;
}

bool ws_client::is_open() const
{
    return !impl_->ended;
}

const http::fields& ws_client::handshake_headers() const
{
    return impl_->handshake_headers;
}

} // namespace test
