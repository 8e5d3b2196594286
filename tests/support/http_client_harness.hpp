#pragma once

// What the http_client test files share: a scriptable HTTP/1.1 server (plain or TLS) on 127.0.0.1 that
// records what it receives, a bounded runner for test coroutines, and the requests and expectations the
// tests build on.

#include "common/client/http_client.hpp"

#include "support/tls_cert.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

using namespace common::aliases;
namespace client = common::client;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace common::client {
// For Boost.Test messages.
inline std::ostream& operator<<(std::ostream& os, error_kind k)
{
    return os << to_string(k);
}
} // namespace common::client

namespace http_client_harness {

// A certificate for another name than the one the tests connect to.
inline const test::self_signed_cert& other_cert()
{
    static const test::self_signed_cert c = test::make_self_signed_cert("wrong.test", "DNS:wrong.test");
    return c;
}

// ---------------------------------------------------------------------------------------------
// A scriptable HTTP/1.1 server (plain or TLS) on 127.0.0.1 that records what it receives.
using server_request = http::request<http::string_body>;
using server_response = http::response<http::string_body>;

enum class action
{
    respond,           ///< answer, keep the connection
    respond_and_close, ///< answer (no Connection: close), then close as an idle server would
    close_silently,    ///< read the request, close without answering
    hang,              ///< read the request, never answer
    garbage            ///< answer with bytes that are not HTTP
};

struct reply
{
    action what = action::respond;
    server_response res{http::status::ok, 11};
};

// What the server's sessions share with the test body. The sessions run on strands of the test's
// io_context, possibly on several threads: `requests` is read through the locking accessors, the counters
// are atomic, and `handler` is set before the server starts and called under `mutex`.
struct server_state
{
    std::function<reply(const server_request&)> handler;
    std::atomic<int> connections{0}, closed{0};
    std::mutex mutex; // guards `requests`
    std::vector<server_request> requests;

    std::size_t request_count()
    {
        std::lock_guard lock(mutex);
        return requests.size();
    }
    server_request request(std::size_t i)
    {
        std::lock_guard lock(mutex);
        return requests.at(i);
    }
};

// clang-format off
inline tcp::socket& lowest(tcp::socket& s) { return s; }
inline tcp::socket& lowest(ssl::stream<tcp::socket>& s) { return s.next_layer(); }
// clang-format on

template <class Stream>
net::awaitable<void> serve(Stream& stream, std::shared_ptr<server_state> st)
{
    beast::flat_buffer buffer;
    for (;;) {
        server_request req;
        auto [ec, n] =
            co_await http::async_read(stream, buffer, req, net::as_tuple(net::use_awaitable));
        if (ec)
            co_return;
        reply r;
        {
            std::lock_guard lock(st->mutex);
            st->requests.push_back(req);
            r = st->handler(req);
        }
        if (r.what == action::hang) {
            net::steady_timer t(co_await net::this_coro::executor, 60s);
            co_await t.async_wait(net::as_tuple(net::use_awaitable));
            co_return;
        }
        if (r.what == action::garbage) {
            std::string junk = "this is not HTTP at all\r\n\r\n";
            co_await net::async_write(stream, net::buffer(junk), net::as_tuple(net::use_awaitable));
        } else if (r.what != action::close_silently) {
            if (!r.res.has_content_length())
                r.res.prepare_payload();
            co_await http::async_write(stream, r.res, net::as_tuple(net::use_awaitable));
        }
        if (r.what != action::respond) {
            boost::system::error_code ignored;
            lowest(stream).shutdown(tcp::socket::shutdown_both, ignored);
            lowest(stream).close(ignored);
            ++st->closed;
            co_return;
        }
    }
}

inline net::awaitable<void>
session(tcp::socket sock, std::shared_ptr<server_state> st, std::shared_ptr<ssl::context> tls)
{
    ++st->connections;
    if (!tls) {
        co_await serve(sock, st);
        co_return;
    }
    ssl::stream<tcp::socket> stream(std::move(sock), *tls);
    auto [ec] = co_await stream.async_handshake(
        ssl::stream_base::server, net::as_tuple(net::use_awaitable)
    );
    if (!ec)
        co_await serve(stream, st);
}

inline net::awaitable<void> accept_loop(
    std::shared_ptr<tcp::acceptor> acc,
    std::shared_ptr<server_state> st,
    std::shared_ptr<ssl::context> tls
)
{
    for (;;) {
        auto strand = net::make_strand(acc->get_executor());
        auto [ec, sock] = co_await acc->async_accept(strand, net::as_tuple(net::use_awaitable));
        if (ec)
            co_return;
        net::co_spawn(strand, session(std::move(sock), st, tls), [](std::exception_ptr) {});
    }
}

// Listens on 127.0.0.1 at an ephemeral port of the test's io_context; each connection is served on a
// strand of its own. Construct and query from the test's thread; `state` is what is thread-safe to read.
class test_server
{
public:
    test_server(
        net::io_context& ioc,
        std::function<reply(const server_request&)> handler,
        std::shared_ptr<ssl::context> tls = nullptr
    )
        : state(std::make_shared<server_state>())
        , tls_(tls != nullptr)
    {
        state->handler = std::move(handler);
        auto acc = std::make_shared<tcp::acceptor>(
            ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)
        );
        port_ = acc->local_endpoint().port();
        net::co_spawn(ioc, accept_loop(acc, state, std::move(tls)), [](std::exception_ptr) {});
    }

    std::string url(std::string_view path, std::string_view host = "127.0.0.1") const
    {
        return std::string(tls_ ? "https://" : "http://") + std::string(host) + ":" +
               std::to_string(port_) + std::string(path);
    }
    unsigned short port() const { return port_; }

    std::shared_ptr<server_state> state;

private:
    bool tls_;
    unsigned short port_ = 0;
};

inline reply ok(std::string body, action what = action::respond)
{
    reply r;
    r.what = what;
    r.res.body() = std::move(body);
    return r;
}

// ---------------------------------------------------------------------------------------------
// Runs a test coroutine on a fresh io_context, bounded in time; rethrows what it threw.
template <class F>
void run_async(net::io_context& ioc, F body, int threads = 1)
{
    std::exception_ptr failure;
    std::atomic<bool> done{false};
    net::co_spawn(ioc, std::move(body), [&](std::exception_ptr e) {
        failure = e;
        done = true;
        ioc.stop();
    });
    std::vector<std::thread> extra;
    for (int i = 1; i < threads; ++i)
        extra.emplace_back([&] { ioc.run_for(20s); });
    ioc.run_for(20s);
    for (auto& t : extra)
        t.join();
    BOOST_REQUIRE_MESSAGE(done, "the test coroutine did not finish in time");
    if (failure)
        std::rethrow_exception(failure);
}

inline net::awaitable<void> sleep_for(std::chrono::milliseconds d)
{
    net::steady_timer t(co_await net::this_coro::executor, d);
    co_await t.async_wait(net::use_awaitable);
}

inline net::awaitable<void> wait_until(std::function<bool()> pred)
{
    while (!pred())
        co_await sleep_for(5ms);
}

// (Member-wise, not designated initializers: GCC 12 -Wextra warns on the omitted members.)
inline client::request get(std::string url)
{
    client::request r;
    r.url = std::move(url);
    return r;
}

inline client::request post(std::string url, std::string body)
{
    client::request r;
    r.method = http::verb::post;
    r.url = std::move(url);
    r.body = std::move(body);
    r.content_type = "application/json";
    return r;
}

// Sends `r`, which must fail with `kind`; returns the error message.
inline net::awaitable<std::string>
expect_failure(client::http_client& c, client::request r, client::error_kind kind)
{
    std::optional<client::error> caught;
    try {
        co_await c.send(std::move(r));
    } catch (const client::error& e) {
        caught = e;
    }
    BOOST_REQUIRE_MESSAGE(caught.has_value(), "the request did not fail");
    BOOST_TEST(caught->kind() == kind, caught->what());
    co_return caught->what();
}

// Sends `r`, which must be refused before any I/O.
inline net::awaitable<void> expect_invalid(client::http_client& c, client::request r)
{
    bool threw = false;
    try {
        co_await c.send(r);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    BOOST_TEST(threw, r.url);
}

inline bool contains(std::string_view hay, std::string_view needle)
{
    return hay.find(needle) != std::string_view::npos;
}

} // namespace http_client_harness
