#pragma once

// The HTTP server under test and the clients that talk to it: what the server_* test files share.

#include "common/web/server.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/web/health.hpp"
#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"
#include "common/web/router.hpp"
#include "support/http_call.hpp"
#include "support/test_server.hpp"
#include "support/tls_cert.hpp"
#include "support/wait.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <type_traits>

using namespace common::aliases;
using namespace std::chrono_literals;
namespace web = common::web;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using http_response = http::response<http::string_body>;

namespace server_harness {


inline bool is_request_id(const std::string& s)
{
    static const std::regex hex16("^[0-9a-f]{16}$");
    return std::regex_match(s, hex16);
}

inline json::object body_json(const std::string& body)
{
    error_code ec;
    auto v = json::parse(body, ec);
    BOOST_REQUIRE_MESSAGE(!ec && v.is_object(), "body is a JSON object: " << body);
    return v.as_object();
}

inline std::string code_of(const std::string& body)
{
    auto o = body_json(body);
    auto* c = o.if_contains("code");
    return c != nullptr && c->is_string() ? std::string(c->as_string()) : std::string();
}

/** What the test handlers share with the test body. */
struct gates
{
    std::atomic<int> entered{0};
    std::atomic<bool> release{false};
};

/** Answers `GET`-style test routes with `text` as a plain body. */
inline web::response text_response(const web::request& req, std::string text)
{
    web::response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(text);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

/** The test server with the routes below; `g` is what its handlers share with the test body. */
struct http_server : test::test_server
{
    gates g;

    http_server()
    {
        common::log::init("web_tests", common::log::level::warn);
        add_test_routes();
    }
    ~http_server() { stop(); } // before `g` goes: the handlers use it

    void add_test_routes()
    {
        routes.add(http::verb::get, "/hello",
                   [](web::request& req, web::request_context&) -> net::awaitable<web::response> {
                       co_return web::json_response(req, http::status::ok, json::object{{"hello", "world"}});
                   });
        routes.add(http::verb::get, "/items/{id}",
                   [](web::request& req, web::request_context& ctx) -> net::awaitable<web::response> {
                       co_return text_response(req, "item " + ctx.params.at("id"));
                   });
        routes.add(http::verb::post, "/echo",
                   [](web::request& req, web::request_context&) -> net::awaitable<web::response> {
                       co_return text_response(req, req.body());
                   });
        // Waits until the test releases it (bounded, so a broken test cannot leave it running).
        routes.add(http::verb::get, "/slow",
                   [this](web::request& req, web::request_context&) -> net::awaitable<web::response> {
                       ++g.entered;
                       net::steady_timer t(co_await net::this_coro::executor);
                       for (int i = 0; i < 1000 && !g.release; ++i) {
                           t.expires_after(10ms);
                           co_await t.async_wait(net::use_awaitable);
                       }
                       co_return text_response(req, "slow done");
                   });
        // Never finishes on its own.
        routes.add(http::verb::get, "/forever",
                   [this](web::request& req, web::request_context&) -> net::awaitable<web::response> {
                       ++g.entered;
                       net::steady_timer t(co_await net::this_coro::executor, 1h);
                       co_await t.async_wait(net::use_awaitable);
                       co_return text_response(req, "never");
                   });
        // Blocks the server's only thread for a moment, so that bytes pile up on other connections.
        routes.add(http::verb::get, "/block",
                   [this](web::request& req, web::request_context&) -> net::awaitable<web::response> {
                       ++g.entered;
                       for (int i = 0; i < 200 && !g.release; ++i)
                           std::this_thread::sleep_for(5ms);
                       co_return text_response(req, "unblocked");
                   });
        routes.add(http::verb::get, "/problem",
                   [](web::request&, web::request_context&) -> net::awaitable<web::response> {
                       throw web::problem(http::status::conflict, "EMAIL_TAKEN", "that email is taken")
                           .with_header("Retry-After", "9");
                       co_return web::response{};
                   });
        routes.add(http::verb::get, "/boom", [](web::request&, web::request_context&) -> net::awaitable<web::response> {
            throw std::runtime_error("secret-ish text");
            co_return web::response{};
        });
        routes.add(http::verb::get, "/unavailable",
                   [](web::request&, web::request_context&) -> net::awaitable<web::response> {
                       throw common::unavailable_error("STORE_UNAVAILABLE", "db down: secret-ish text", 4);
                       co_return web::response{};
                   });
    }
};

/**
 * A synchronous HTTP/1.1 client connection (plain or TLS) for tests that need more than one exchange
 * per connection, raw bytes or to see the connection close. Each step runs the client's own
 * io_context, bounded by a timeout.
 */
template <bool Tls>
class client
{
public:
    using stream_type = std::conditional_t<Tls, ssl::stream<beast::tcp_stream>, beast::tcp_stream>;

    explicit client(unsigned short port)
        : stream_(make_stream())
    {
        auto ec = connect(port);
        BOOST_REQUIRE_MESSAGE(!ec, "connect: " << ec.message());
        // Every write leaves at once (no Nagle delay), so tests control what arrives together.
        lowest().socket().set_option(tcp::no_delay(true));
        if constexpr (Tls) {
            ec = run(5s, [&](auto done) {
                stream_.async_handshake(ssl::stream_base::client, [done](error_code e) mutable { done(e); });
            });
            BOOST_REQUIRE_MESSAGE(!ec, "TLS handshake: " << ec.message());
        }
    }

    /** Connects a fresh socket; returns the error (connection_refused once the server stopped listening). */
    static error_code try_connect(unsigned short port)
    {
        net::io_context ioc;
        beast::tcp_stream s(ioc);
        std::optional<error_code> result;
        s.expires_after(5s);
        s.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port), [&](error_code ec) { result = ec; });
        ioc.run_for(7s);
        BOOST_REQUIRE(result.has_value());
        return *result;
    }

    void write(const std::string& raw)
    {
        auto ec = run(5s, [&](auto done) {
            net::async_write(stream_, net::buffer(raw), [done](error_code e, std::size_t) mutable { done(e); });
        });
        BOOST_REQUIRE_MESSAGE(!ec, "write: " << ec.message());
    }

    void send(http::verb method, const std::string& target,
              std::vector<std::pair<std::string, std::string>> headers = {})
    {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        for (auto& [k, v] : headers)
            req.set(k, v);
        req.prepare_payload();
        auto ec = run(5s, [&](auto done) {
            http::async_write(stream_, req, [done](error_code e, std::size_t) mutable { done(e); });
        });
        BOOST_REQUIRE_MESSAGE(!ec, "send: " << ec.message());
    }

    /** Reads one response; fails the test on error or timeout. */
    http_response read(bool head = false, std::chrono::milliseconds timeout = 5s)
    {
        http::response_parser<http::string_body> parser;
        parser.skip(head);
        auto ec = run(timeout, [&](auto done) {
            http::async_read(stream_, buffer_, parser, [done](error_code e, std::size_t) mutable { done(e); });
        });
        BOOST_REQUIRE_MESSAGE(!ec, "read response: " << ec.message());
        return parser.release();
    }

    /**
     * Reads until the connection ends; returns the error that ended it: a timeout means the server kept
     * the connection open, anything else (end of stream, reset) that it closed it.
     */
    error_code wait_closed(std::chrono::milliseconds timeout = 5s)
    {
        for (;;) {
            std::size_t got = 0;
            auto ec = run(timeout, [&](auto done) {
                stream_.async_read_some(buffer_.prepare(4096), [done, &got](error_code e, std::size_t n) mutable {
                    got = n;
                    done(e);
                });
            });
            buffer_.commit(got);
            if (ec)
                return ec;
        }
    }

    /** Bytes received but not yet consumed by read(). */
    std::string leftover() const { return beast::buffers_to_string(buffer_.data()); }

private:
    stream_type make_stream()
    {
        if constexpr (Tls) {
            ctx_.set_verify_mode(ssl::verify_none);
            return stream_type(ioc_, ctx_);
        } else {
            return stream_type(ioc_);
        }
    }

    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

    error_code connect(unsigned short port)
    {
        return run(5s, [&](auto done) {
            lowest().async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port),
                                   [done](error_code e) mutable { done(e); });
        });
    }

    /** Starts `op(done)` and runs the io_context until `done(ec)` is called or the timeout passes. */
    template <class Op>
    error_code run(std::chrono::milliseconds timeout, Op op)
    {
        std::optional<error_code> result;
        lowest().expires_after(timeout);
        op([&result](error_code ec) { result = ec; });
        ioc_.restart();
        ioc_.run_for(timeout + 2s);
        BOOST_REQUIRE_MESSAGE(result.has_value(), "client step did not complete");
        return *result;
    }

    net::io_context ioc_;
    ssl::context ctx_{ssl::context::tls_client};
    stream_type stream_;
    beast::flat_buffer buffer_;
};

using plain_client = client<false>;
using tls_client = client<true>;

inline bool closed_by_server(const error_code& ec)
{
    return ec && ec != beast::error::timeout;
}


} // namespace server_harness

using namespace server_harness;
