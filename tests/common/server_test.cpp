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

namespace {

bool is_request_id(const std::string& s)
{
    static const std::regex hex16("^[0-9a-f]{16}$");
    return std::regex_match(s, hex16);
}

json::object body_json(const std::string& body)
{
    error_code ec;
    auto v = json::parse(body, ec);
    BOOST_REQUIRE_MESSAGE(!ec && v.is_object(), "body is a JSON object: " << body);
    return v.as_object();
}

std::string code_of(const std::string& body)
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
web::response text_response(const web::request& req, std::string text)
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

bool closed_by_server(const error_code& ec)
{
    return ec && ec != beast::error::timeout;
}

} // namespace

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(get_round_trip_generates_a_request_id)
{
    http_server ts;
    ts.start();
    auto r = test::http_call(ts.port(), http::verb::get, "/hello");
    BOOST_TEST(r.status == 200U);
    BOOST_TEST(r.header("Content-Type") == "application/json");
    BOOST_TEST(body_json(r.body).at("hello").as_string() == "world");
    BOOST_TEST(is_request_id(r.header("X-Request-Id")), "id '" << r.header("X-Request-Id") << "'");
    auto r2 = test::http_call(ts.port(), http::verb::get, "/hello");
    BOOST_TEST(is_request_id(r2.header("X-Request-Id")));
    BOOST_TEST(r2.header("X-Request-Id") != r.header("X-Request-Id"));
}

BOOST_AUTO_TEST_CASE(sane_request_id_is_echoed)
{
    http_server ts;
    ts.start();
    for (std::string id : {std::string("abc-123_X.y:z"), std::string(128, 'a')}) {
        auto r = test::http_call(ts.port(), http::verb::get, "/hello", {}, {{"X-Request-Id", id}});
        BOOST_TEST(r.status == 200U);
        BOOST_TEST(r.header("X-Request-Id") == id);
    }
}

BOOST_AUTO_TEST_CASE(insane_request_id_is_replaced)
{
    http_server ts;
    ts.start();
    for (std::string id : {std::string("has space inside"), std::string(129, 'a'), std::string("quote\"d"),
                           std::string("semi;colon"), std::string("<script>")}) {
        BOOST_TEST_CONTEXT("id '" << id << "'")
        {
            auto r = test::http_call(ts.port(), http::verb::get, "/hello", {}, {{"X-Request-Id", id}});
            BOOST_TEST(r.status == 200U);
            BOOST_TEST(r.header("X-Request-Id") != id);
            BOOST_TEST(is_request_id(r.header("X-Request-Id")));
        }
    }
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection)
{
    http_server ts;
    ts.start();
    plain_client c(ts.port());
    for (int i = 1; i <= 3; ++i) {
        c.send(http::verb::get, "/items/" + std::to_string(i));
        auto res = c.read();
        BOOST_TEST(res.result_int() == 200U);
        BOOST_TEST(res.body() == "item " + std::to_string(i));
        BOOST_TEST(res.keep_alive());
    }
    BOOST_TEST(ts.server().connections() == 1U);

    // Pipelined: two requests in one write, two answers in order.
    c.write("GET /items/8 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/9 HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(c.read().body() == "item 8");
    BOOST_TEST(c.read().body() == "item 9");
    BOOST_TEST(ts.server().connections() == 1U);
}

BOOST_AUTO_TEST_CASE(connection_close_is_honoured)
{
    http_server ts;
    ts.start();
    plain_client c(ts.port());
    c.send(http::verb::get, "/hello", {{"Connection", "close"}});
    auto res = c.read();
    BOOST_TEST(res.result_int() == 200U);
    BOOST_TEST(!res.keep_alive());
    auto ec = c.wait_closed();
    BOOST_TEST(closed_by_server(ec), "connection closed: " << ec.message());
}

BOOST_AUTO_TEST_CASE(head_has_the_get_headers_and_no_body)
{
    http_server ts;
    ts.start();
    plain_client c(ts.port());
    c.send(http::verb::get, "/hello");
    auto get = c.read();
    c.send(http::verb::head, "/hello");
    auto head = c.read(true);
    BOOST_TEST(head.result_int() == 200U);
    BOOST_TEST(head[http::field::content_length] == std::to_string(get.body().size()));
    BOOST_TEST(head.body().empty());
    // Nothing follows the HEAD answer on the connection: the next request's answer comes next.
    c.send(http::verb::get, "/items/5");
    BOOST_TEST(c.read().body() == "item 5");
}

BOOST_AUTO_TEST_CASE(unknown_path_and_method_through_the_server)
{
    http_server ts;
    ts.start();
    auto r = test::http_call(ts.port(), http::verb::get, "/nope");
    BOOST_TEST(r.status == 404U);
    BOOST_TEST(r.header("Content-Type") == "application/problem+json");
    BOOST_TEST(code_of(r.body) == "NOT_FOUND");
    BOOST_TEST(is_request_id(r.header("X-Request-Id")));
    auto r2 = test::http_call(ts.port(), http::verb::delete_, "/hello");
    BOOST_TEST(r2.status == 405U);
    BOOST_TEST(code_of(r2.body) == "METHOD_NOT_ALLOWED");
    BOOST_TEST(!r2.header("Allow").empty());
}

BOOST_AUTO_TEST_CASE(body_within_the_limit_is_read)
{
    http_server ts;
    web::server_options o;
    o.body_limit = 1024;
    ts.start(o);
    std::string body(1024, 'b');
    auto r = test::http_call(ts.port(), http::verb::post, "/echo", body, {{"Content-Type", "text/plain"}});
    BOOST_TEST(r.status == 200U);
    BOOST_TEST(r.body == body);

    plain_client c(ts.port());
    c.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    auto res = c.read();
    BOOST_TEST(res.result_int() == 200U);
    BOOST_TEST(res.body() == "hello world");
}

BOOST_AUTO_TEST_CASE(body_over_the_limit_with_content_length_is_413)
{
    http_server ts;
    web::server_options o;
    o.body_limit = 1024;
    ts.start(o);
    auto r =
        test::http_call(ts.port(), http::verb::post, "/echo", std::string(4096, 'b'), {{"Content-Type", "text/plain"}});
    BOOST_TEST(r.status == 413U);
    BOOST_TEST(r.header("Content-Type") == "application/problem+json");
    BOOST_TEST(code_of(r.body) == "PAYLOAD_TOO_LARGE");

    // Refused on the announcement alone: the client need not send the body.
    plain_client c(ts.port());
    c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
    auto res = c.read();
    BOOST_TEST(res.result_int() == 413U);
    BOOST_TEST(code_of(res.body()) == "PAYLOAD_TOO_LARGE");
    BOOST_TEST(closed_by_server(c.wait_closed()));
}

BOOST_AUTO_TEST_CASE(body_over_the_limit_with_chunked_encoding_is_413)
{
    http_server ts;
    web::server_options o;
    o.body_limit = 1024;
    ts.start(o);
    plain_client c(ts.port());
    std::string raw = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i)
        raw += "3e8\r\n" + std::string(1000, 'c') + "\r\n";
    raw += "0\r\n\r\n";
    c.write(raw);
    auto res = c.read();
    BOOST_TEST(res.result_int() == 413U);
    BOOST_TEST(res[http::field::content_type] == "application/problem+json");
    BOOST_TEST(code_of(res.body()) == "PAYLOAD_TOO_LARGE");
    BOOST_TEST(!res.keep_alive());
}

BOOST_AUTO_TEST_CASE(headers_over_the_limit_are_431)
{
    http_server ts;
    web::server_options o;
    o.header_limit = 1024;
    ts.start(o);
    plain_client c(ts.port());
    c.write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'h') + "\r\n\r\n");
    auto res = c.read();
    BOOST_TEST(res.result_int() == 431U);
    BOOST_TEST(code_of(res.body()) == "HEADERS_TOO_LARGE");
    BOOST_TEST(is_request_id(std::string(res["X-Request-Id"])));
    BOOST_TEST(closed_by_server(c.wait_closed()));
}

BOOST_AUTO_TEST_CASE(a_target_over_the_url_limit_is_414)
{
    http_server ts;
    web::server_options o;
    o.url_limit = 512;
    ts.start(o);
    {
        plain_client c(ts.port());
        c.write("GET /hello?q=" + std::string(600, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n");
        auto res = c.read();
        BOOST_TEST(res.result_int() == 414U);
        BOOST_TEST(code_of(res.body()) == "URI_TOO_LONG");
        BOOST_TEST(closed_by_server(c.wait_closed()));
    }
    // At the limit it is served.
    plain_client c(ts.port());
    std::string target = "/hello?q=";
    target += std::string(512 - target.size(), 'u');
    c.write("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(c.read().result_int() == 200U);
}

BOOST_AUTO_TEST_CASE(connections_over_the_per_address_limit_are_429_until_one_closes)
{
    http_server ts;
    web::server_options o;
    o.connections_per_address = 2;
    ts.start(o);
    auto first = std::make_unique<plain_client>(ts.port());
    plain_client second(ts.port());
    first->write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(first->read().result_int() == 200U);
    second.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(second.read().result_int() == 200U);
    {
        plain_client third(ts.port());
        third.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        auto res = third.read();
        BOOST_TEST(res.result_int() == 429U);
        BOOST_TEST(code_of(res.body()) == "TOO_MANY_CONNECTIONS_FROM_ADDRESS");
        BOOST_TEST(res[http::field::retry_after] == "1");
        BOOST_TEST(closed_by_server(third.wait_closed()));
    }
    // Once one of the two closes, a new connection is served again (the count follows closes).
    first.reset();
    bool served = false;
    for (int i = 0; i < 50 && !served; ++i) {
        plain_client again(ts.port());
        again.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        served = again.read().result_int() == 200U;
        if (!served)
            std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(served, "a connection was served again after one of the two closed");
}

BOOST_AUTO_TEST_CASE(garbage_is_400_malformed_request)
{
    http_server ts;
    ts.start();
    for (std::string raw : {std::string("THIS IS NOT HTTP\r\n\r\n"), std::string("\x01\x02\x03\x04\r\n\r\n"),
                            std::string("GET /hello HTTP/1.1\r\nno colon here\r\n\r\n"),
                            std::string("GET /hello HTTP/1.1\r\nContent-Length: abc\r\n\r\n")}) {
        BOOST_TEST_CONTEXT("request " << raw.substr(0, 20))
        {
            plain_client c(ts.port());
            c.write(raw);
            auto res = c.read();
            BOOST_TEST(res.result_int() == 400U);
            BOOST_TEST(res[http::field::content_type] == "application/problem+json");
            BOOST_TEST(code_of(res.body()) == "MALFORMED_REQUEST");
            BOOST_TEST(closed_by_server(c.wait_closed()));
        }
    }
}

BOOST_AUTO_TEST_CASE(stalled_half_header_is_cut_off)
{
    http_server ts;
    web::server_options o;
    o.header_timeout = 200ms;
    ts.start(o);
    plain_client c(ts.port());
    c.write("GET /hello HTTP/1.1\r\nHost: x\r\n");
    auto ec = c.wait_closed(10s);
    BOOST_TEST(closed_by_server(ec), "the server closed the connection: " << ec.message());
}

BOOST_AUTO_TEST_CASE(idle_keep_alive_connection_is_closed)
{
    http_server ts;
    web::server_options o;
    o.idle_timeout = 200ms;
    ts.start(o);
    plain_client c(ts.port());
    c.send(http::verb::get, "/hello");
    auto res = c.read();
    BOOST_TEST(res.result_int() == 200U);
    BOOST_TEST(res.keep_alive());
    auto ec = c.wait_closed(10s);
    BOOST_TEST(closed_by_server(ec), "the server closed the idle connection: " << ec.message());

    // A connection that never sends anything is closed as well.
    plain_client silent(ts.port());
    BOOST_TEST(closed_by_server(silent.wait_closed(10s)));
    BOOST_TEST(test::eventually([&] { return ts.server().connections() == 0; }));
}

BOOST_AUTO_TEST_CASE(expect_100_continue)
{
    http_server ts;
    ts.start();
    plain_client c(ts.port());
    c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
            "Expect: 100-continue\r\n\r\n");
    auto interim = c.read();
    BOOST_TEST(interim.result_int() == 100U);
    c.write("hello world");
    auto res = c.read();
    BOOST_TEST(res.result_int() == 200U);
    BOOST_TEST(res.body() == "hello world");
}

BOOST_AUTO_TEST_CASE(handler_problem_is_the_answer)
{
    http_server ts;
    ts.start();
    auto r = test::http_call(ts.port(), http::verb::get, "/problem");
    BOOST_TEST(r.status == 409U);
    BOOST_TEST(r.header("Content-Type") == "application/problem+json");
    BOOST_TEST(r.header("Retry-After") == "9");
    BOOST_TEST(code_of(r.body) == "EMAIL_TAKEN");
    BOOST_TEST(body_json(r.body).at("detail").as_string() == "that email is taken");
    BOOST_TEST(is_request_id(r.header("X-Request-Id")));
}

BOOST_AUTO_TEST_CASE(unexpected_exception_is_500_revealing_nothing)
{
    http_server ts;
    ts.start();
    auto r = test::http_call(ts.port(), http::verb::get, "/boom");
    BOOST_TEST(r.status == 500U);
    BOOST_TEST(code_of(r.body) == "INTERNAL");
    BOOST_TEST(r.body.find("secret-ish") == std::string::npos, r.body);
    BOOST_TEST(is_request_id(r.header("X-Request-Id")));

    auto u = test::http_call(ts.port(), http::verb::get, "/unavailable");
    BOOST_TEST(u.status == 503U);
    BOOST_TEST(code_of(u.body) == "STORE_UNAVAILABLE");
    BOOST_TEST(u.header("Retry-After") == "4");
    BOOST_TEST(u.body.find("secret-ish") == std::string::npos, u.body);

    // The connection survives a handler failure.
    plain_client c(ts.port());
    c.send(http::verb::get, "/boom");
    BOOST_TEST(c.read().result_int() == 500U);
    c.send(http::verb::get, "/hello");
    BOOST_TEST(c.read().result_int() == 200U);
}

BOOST_AUTO_TEST_CASE(graceful_shutdown)
{
    http_server ts;
    ts.start();
    // One idle keep-alive connection...
    plain_client idle(ts.port());
    idle.send(http::verb::get, "/hello");
    BOOST_REQUIRE(idle.read().keep_alive());
    // ...and one request in flight.
    plain_client busy(ts.port());
    busy.send(http::verb::get, "/slow");
    BOOST_REQUIRE(test::eventually([&] { return ts.g.entered.load() == 1; }));

    auto done = ts.begin_shutdown(10s);
    // The idle connection goes at once, while the busy one is still held by its handler.
    auto ec = idle.wait_closed(5s);
    BOOST_TEST(closed_by_server(ec), "idle connection closed: " << ec.message());
    BOOST_TEST(!ts.g.release.load());
    // No new connections.
    BOOST_TEST(plain_client::try_connect(ts.port()) == net::error::connection_refused);
    // Shutdown waits for the request in flight.
    BOOST_TEST((done.wait_for(0ms) == std::future_status::timeout));

    ts.g.release = true;
    auto res = busy.read();
    BOOST_TEST(res.result_int() == 200U);
    BOOST_TEST(res.body() == "slow done");
    BOOST_TEST(!res.keep_alive());
    BOOST_TEST(closed_by_server(busy.wait_closed()));
    BOOST_REQUIRE((done.wait_for(10s) == std::future_status::ready));
    done.get();
    BOOST_TEST(ts.server().connections() == 0U);
}

BOOST_AUTO_TEST_CASE(shutdown_with_a_stuck_handler_completes_after_the_grace_period)
{
    http_server ts;
    ts.start();
    plain_client stuck(ts.port());
    stuck.send(http::verb::get, "/forever");
    BOOST_REQUIRE(test::eventually([&] { return ts.g.entered.load() == 1; }));
    auto done = ts.begin_shutdown(200ms);
    BOOST_REQUIRE((done.wait_for(20s) == std::future_status::ready));
    done.get();
    // The stuck connection was closed rather than left open.
    BOOST_TEST(closed_by_server(stuck.wait_closed(5s)));
}

BOOST_AUTO_TEST_CASE(healthz_and_readyz_when_all_checks_pass)
{
    http_server ts;
    std::vector<web::readiness_check> checks{{"database",
                                              []() -> net::awaitable<bool> {
                                                  co_return true;
                                              }},
                                             {"redis", []() -> net::awaitable<bool> {
                                                  co_return true;
                                              }}};
    web::add_health_routes(ts.routes, ts.metrics, std::move(checks), 1s);
    ts.start();
    auto h = test::http_call(ts.port(), http::verb::get, "/healthz");
    BOOST_TEST(h.status == 200U);
    auto r = test::http_call(ts.port(), http::verb::get, "/readyz");
    BOOST_TEST(r.status == 200U, r);
    auto body = body_json(r.body);
    BOOST_TEST(body.at("checks").at("database").as_string() == "ok");
    BOOST_TEST(body.at("checks").at("redis").as_string() == "ok");
}

BOOST_AUTO_TEST_CASE(readyz_names_a_failing_check)
{
    http_server ts;
    std::vector<web::readiness_check> checks{{"database",
                                              []() -> net::awaitable<bool> {
                                                  co_return true;
                                              }},
                                             {"redis",
                                              []() -> net::awaitable<bool> {
                                                  co_return false;
                                              }},
                                             {"thrower", []() -> net::awaitable<bool> {
                                                  throw std::runtime_error("probe failed");
                                                  co_return true;
                                              }}};
    web::add_health_routes(ts.routes, ts.metrics, std::move(checks), 1s);
    ts.start();
    auto r = test::http_call(ts.port(), http::verb::get, "/readyz");
    BOOST_TEST(r.status == 503U, r);
    BOOST_TEST(r.header("Content-Type") == "application/problem+json");
    BOOST_TEST(code_of(r.body) == "NOT_READY");
    auto detail = std::string(body_json(r.body).at("detail").as_string());
    BOOST_TEST(detail.find("redis") != std::string::npos, detail);
    BOOST_TEST(detail.find("thrower") != std::string::npos, detail);
    BOOST_TEST(detail.find("database") == std::string::npos, detail);
}

BOOST_AUTO_TEST_CASE(readyz_check_that_never_completes_is_503_after_the_timeout)
{
    http_server ts;
    std::vector<web::readiness_check> checks{
        {"database",
         []() -> net::awaitable<bool> {
             // Cancellable: a timer that would run for an hour.
             net::steady_timer t(co_await net::this_coro::executor, 1h);
             co_await t.async_wait(net::use_awaitable);
             co_return true;
         }},
        {"redis",
         []() -> net::awaitable<bool> {
             // Deaf to cancellation, like a blocking call on a worker pool: it must not hold the answer.
             net::steady_timer t(co_await net::this_coro::executor, 30s);
             co_await t.async_wait(net::bind_cancellation_slot(net::cancellation_slot(), net::use_awaitable));
             co_return true;
         }},
        {"fine", []() -> net::awaitable<bool> {
             co_return true;
         }}};
    web::add_health_routes(ts.routes, ts.metrics, std::move(checks), 200ms);
    ts.start();
    auto r = test::http_call(ts.port(), http::verb::get, "/readyz", {}, {}, 5s);
    BOOST_TEST(r.status == 503U, r);
    BOOST_TEST(code_of(r.body) == "NOT_READY");
    auto detail = std::string(body_json(r.body).at("detail").as_string());
    BOOST_TEST(detail.find("database") != std::string::npos, detail);
    BOOST_TEST(detail.find("redis") != std::string::npos, detail);
    BOOST_TEST(detail.find("fine") == std::string::npos, detail);
}

BOOST_AUTO_TEST_CASE(metrics_count_requests_by_route)
{
    http_server ts;
    web::add_health_routes(ts.routes, ts.metrics, {});
    ts.start();
    plain_client c(ts.port());
    for (auto target : {"/items/1", "/items/2", "/nope"}) {
        c.send(http::verb::get, target);
        (void)c.read();
    }
    c.send(http::verb::get, "/metrics");
    auto res = c.read();
    BOOST_TEST(res.result_int() == 200U);
    BOOST_TEST(std::string(res[http::field::content_type]).rfind("text/plain", 0) == 0U);
    const auto& text = res.body();
    BOOST_TEST(text.find("# TYPE mb_http_requests_total counter") != std::string::npos, text);
    BOOST_TEST(text.find(R"(mb_http_requests_total{method="GET",route="/items/{id}",status="200"} 2)") !=
                   std::string::npos,
               text);
    BOOST_TEST(text.find(R"(mb_http_requests_total{method="GET",route="unmatched",status="404"} 1)") !=
                   std::string::npos,
               text);
    BOOST_TEST(text.find(R"(mb_http_request_duration_seconds_count{route="/items/{id}"} 2)") != std::string::npos,
               text);
}

BOOST_AUTO_TEST_CASE(tls_round_trip)
{
    test::pem_files files;
    http_server ts;
    web::server_options o;
    o.tls = web::load_server_tls(files.cert().string(), files.key().string());
    ts.start(o);
    tls_client c(ts.port());
    c.send(http::verb::get, "/hello");
    auto res = c.read();
    BOOST_TEST(res.result_int() == 200U);
    BOOST_TEST(body_json(res.body()).at("hello").as_string() == "world");
    BOOST_TEST(is_request_id(std::string(res["X-Request-Id"])));
    c.send(http::verb::get, "/items/4");
    BOOST_TEST(c.read().body() == "item 4");
    c.send(http::verb::get, "/hello", {{"Connection", "close"}});
    BOOST_TEST(!c.read().keep_alive());
    BOOST_TEST(closed_by_server(c.wait_closed()));

    // Plain HTTP to the TLS port gets nowhere.
    auto raw = test::raw_call(ts.port(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 5s);
    BOOST_TEST(raw.find("HTTP/1.1 200") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(tls_requests_that_arrive_together_are_all_answered)
{
    // Two requests in two TLS records that reach the server in one read: the second one is already off
    // the socket (inside the TLS layer) when the first is answered, and must still be served.
    test::pem_files files;
    http_server ts;
    web::server_options o;
    o.tls = web::load_server_tls(files.cert().string(), files.key().string());
    ts.start(o);
    tls_client c(ts.port());
    c.send(http::verb::get, "/items/0");
    BOOST_REQUIRE(c.read().body() == "item 0");

    // Hold the server's only thread while both records arrive.
    tls_client blocker(ts.port());
    blocker.send(http::verb::get, "/block");
    BOOST_REQUIRE(test::eventually([&] { return ts.g.entered.load() == 1; }));
    c.send(http::verb::get, "/items/1");
    c.send(http::verb::get, "/items/2");
    ts.g.release = true;
    BOOST_TEST(blocker.read().body() == "unblocked");
    BOOST_TEST(c.read().body() == "item 1");
    BOOST_TEST(c.read(false, 3s).body() == "item 2");
}

BOOST_AUTO_TEST_SUITE_END()
