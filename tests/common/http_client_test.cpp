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
std::ostream& operator<<(std::ostream& os, error_kind k)
{
    return os << to_string(k);
}
} // namespace common::client

namespace {

// A certificate for another name than the one the tests connect to.
const test::self_signed_cert& other_cert()
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
tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(ssl::stream<tcp::socket>& s) { return s.next_layer(); }
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

net::awaitable<void>
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

net::awaitable<void> accept_loop(
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

reply ok(std::string body, action what = action::respond)
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

net::awaitable<void> sleep_for(std::chrono::milliseconds d)
{
    net::steady_timer t(co_await net::this_coro::executor, d);
    co_await t.async_wait(net::use_awaitable);
}

net::awaitable<void> wait_until(std::function<bool()> pred)
{
    while (!pred())
        co_await sleep_for(5ms);
}

// (Member-wise, not designated initializers: GCC 12 -Wextra warns on the omitted members.)
client::request get(std::string url)
{
    client::request r;
    r.url = std::move(url);
    return r;
}

client::request post(std::string url, std::string body)
{
    client::request r;
    r.method = http::verb::post;
    r.url = std::move(url);
    r.body = std::move(body);
    r.content_type = "application/json";
    return r;
}

// Sends `r`, which must fail with `kind`; returns the error message.
net::awaitable<std::string>
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
net::awaitable<void> expect_invalid(client::http_client& c, client::request r)
{
    bool threw = false;
    try {
        co_await c.send(r);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    BOOST_TEST(threw, r.url);
}

bool contains(std::string_view hay, std::string_view needle)
{
    return hay.find(needle) != std::string_view::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_client)

BOOST_AUTO_TEST_CASE(get_round_trip)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request&) {
        auto r = ok("hello");
        r.res.set("X-Reply", "yes");
        return r;
    });
    client::http_client c(ioc.get_executor());
    run_async(ioc, [&]() -> net::awaitable<void> {
        auto req = get(srv.url("/items/7?filter=a%20b&x=1"));
        req.headers = {{"Authorization", "ModeCloud k1"}, {"X-Extra", "v"}};
        auto res = co_await c.send(std::move(req));
        BOOST_TEST(res.status == 200u);
        BOOST_TEST(res.body == "hello");
        BOOST_TEST(res.headers["X-Reply"] == "yes");
        BOOST_REQUIRE_EQUAL(srv.state->request_count(), 1u);
        const auto& seen = srv.state->request(0);
        BOOST_TEST(seen.method() == http::verb::get);
        BOOST_TEST(seen.target() == "/items/7?filter=a%20b&x=1");
        BOOST_TEST(seen[http::field::host] == "127.0.0.1:" + std::to_string(srv.port()));
        BOOST_TEST(seen[http::field::user_agent] == "modebridge");
        BOOST_TEST(seen[http::field::authorization] == "ModeCloud k1");
        BOOST_TEST(seen["X-Extra"] == "v");
        BOOST_TEST(seen.count(http::field::content_length) == 0u);
        BOOST_TEST(seen.body().empty());
    });
}

BOOST_AUTO_TEST_CASE(post_round_trip)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request& req) {
        auto r = ok("echo:" + req.body());
        r.res.result(http::status::created);
        r.res.set(http::field::content_type, "text/plain");
        return r;
    });
    client::options opts;
    opts.user_agent = "default-agent";
    client::http_client c(ioc.get_executor(), opts);
    run_async(ioc, [&]() -> net::awaitable<void> {
        auto req = post(srv.url("/homes"), R"({"name":"h\u00e9","n":1})");
        req.headers = {{"User-Agent", "custom/1"}, {"Content-Length", "999"}};
        auto res = co_await c.send(req);
        BOOST_TEST(res.status == 201u);
        BOOST_TEST(res.body == "echo:" + req.body);
        BOOST_TEST(res.headers[http::field::content_type] == "text/plain");
        const auto& seen = srv.state->request(0);
        BOOST_TEST(seen.method() == http::verb::post);
        BOOST_TEST(seen.target() == "/homes");
        BOOST_TEST(seen.body() == req.body);
        BOOST_TEST(seen[http::field::content_type] == "application/json");
        BOOST_TEST(seen[http::field::content_length] == std::to_string(req.body.size()));
        BOOST_TEST(seen[http::field::user_agent] == "custom/1");
        // An empty POST still announces its length.
        co_await c.send(post(srv.url(""), ""));
        BOOST_TEST(srv.state->request(1).target() == "/");
        BOOST_TEST(srv.state->request(1)[http::field::content_length] == "0");
    });
}

BOOST_AUTO_TEST_CASE(keep_alive_reuses_one_connection)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request& req) {
        auto r = ok(std::string(req.target()));
        if (req.method() == http::verb::head) {
            r.res.body().clear(); // what GET would send: announced, not sent
            r.res.content_length(42);
        }
        return r;
    });
    client::http_client c(ioc.get_executor());
    run_async(ioc, [&]() -> net::awaitable<void> {
        for (int i = 0; i < 5; ++i) {
            auto res = co_await c.send(get(srv.url("/n/" + std::to_string(i))));
            BOOST_TEST(res.body == "/n/" + std::to_string(i));
        }
        client::request head = get(srv.url("/head"));
        head.method = http::verb::head;
        auto res = co_await c.send(head);
        BOOST_TEST(res.status == 200u);
        BOOST_TEST(res.body.empty());
        BOOST_TEST(res.headers[http::field::content_length] == "42");
        res = co_await c.send(get(srv.url("/after-head")));
        BOOST_TEST(res.body == "/after-head");
    });
    BOOST_TEST(srv.state->request_count() == 7u);
    BOOST_TEST(srv.state->connections == 1);
    BOOST_TEST(c.idle_connections() == 1u);
}

BOOST_AUTO_TEST_CASE(connection_close_ttl_and_close_idle_end_reuse)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request& req) {
        auto r = ok("x");
        if (req.target() == "/close")
            r.res.keep_alive(false);
        return r;
    });
    client::options opts;
    opts.idle_ttl = 50ms;
    client::http_client c(ioc.get_executor(), opts);
    run_async(ioc, [&]() -> net::awaitable<void> {
        co_await c.send(get(srv.url("/close"))); // server says Connection: close
        BOOST_TEST(c.idle_connections() == 0u);
        co_await c.send(get(srv.url("/a"))); // connection 2
        co_await c.send(get(srv.url("/b"))); // reused
        co_await sleep_for(120ms);
        co_await c.send(get(srv.url("/c"))); // idle too long: connection 3
        c.close_idle();
        BOOST_TEST(c.idle_connections() == 0u);
        co_await c.send(get(srv.url("/d"))); // connection 4
    });
    BOOST_TEST(srv.state->connections == 4);
}

BOOST_AUTO_TEST_CASE(concurrent_sends_from_many_coroutines_and_threads)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request& req) { return ok(std::string(req.target())); });
    client::options opts;
    opts.max_idle_per_host = 8;
    client::http_client c(ioc.get_executor(), opts);
    std::atomic<int> good{0}, wrong{0}, off_strand{0};
    run_async(
        ioc,
        [&]() -> net::awaitable<void> {
            constexpr int workers = 40, each = 5;
            auto remaining = std::make_shared<std::atomic<int>>(workers);
            for (int w = 0; w < workers; ++w) {
                // Half on plain executors, half on strands that must be resumed on.
                auto strand = net::make_strand(ioc);
                auto job = [&, w, strand, remaining]() -> net::awaitable<void> {
                    for (int i = 0; i < each; ++i) {
                        const auto path = "/w" + std::to_string(w) + "/" + std::to_string(i);
                        auto res = co_await c.send(get(srv.url(path)));
                        (res.body == path ? good : wrong)++;
                        if (w % 2 == 0 && !strand.running_in_this_thread())
                            off_strand++;
                    }
                    --*remaining;
                };
                if (w % 2 == 0)
                    net::co_spawn(strand, job, [](std::exception_ptr e) {
                        if (e)
                            std::rethrow_exception(e);
                    });
                else
                    net::co_spawn(ioc, job, [](std::exception_ptr e) {
                        if (e)
                            std::rethrow_exception(e);
                    });
            }
            co_await wait_until([&] { return remaining->load() == 0; });
        },
        2
    );
    BOOST_TEST(good.load() == 200);
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(off_strand.load() == 0);
    BOOST_TEST(srv.state->request_count() == 200u);
    BOOST_TEST(srv.state->connections <= 40);
    BOOST_TEST(c.idle_connections() <= 8u);
}

BOOST_AUTO_TEST_CASE(idle_connection_closed_by_server_is_replaced)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request&) {
        return ok("fine", action::respond_and_close);
    });
    client::http_client c(ioc.get_executor());
    run_async(ioc, [&]() -> net::awaitable<void> {
        co_await c.send(get(srv.url("/1")));
        co_await wait_until([&] { return srv.state->closed == 1; });
        co_await sleep_for(20ms);               // let the FIN reach the client socket
        BOOST_TEST(c.idle_connections() == 1u); // the client has not noticed yet
        auto res = co_await c.send(get(srv.url("/2")));
        BOOST_TEST(res.body == "fine");
        co_await wait_until([&] { return srv.state->closed == 2; });
        co_await sleep_for(20ms);
        res = co_await c.send(post(srv.url("/3"), "{}"));
        BOOST_TEST(res.body == "fine");
    });
    // Each request reached the server exactly once, each on its own connection.
    BOOST_TEST(srv.state->request_count() == 3u);
    BOOST_TEST(srv.state->connections == 3);
}

BOOST_AUTO_TEST_CASE(post_is_not_retried_after_the_request_went_out)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request& req) {
        return req.method() == http::verb::post ? reply{action::close_silently, {}} : ok("ok");
    });
    client::http_client c(ioc.get_executor());
    run_async(ioc, [&]() -> net::awaitable<void> {
        // On a fresh connection...
        auto req = post(srv.url("/homes?token=q-secret"), R"({"secret":"b-secret"})");
        req.headers = {{"Authorization", "ModeCloud h-secret"}};
        auto what = co_await expect_failure(c, req, client::error_kind::unreachable);
        BOOST_TEST(srv.state->request_count() == 1u);
        for (auto secret : {"q-secret", "b-secret", "h-secret"})
            BOOST_TEST(!contains(what, secret), what);
        BOOST_TEST(contains(what, "POST http://127.0.0.1:"), what);
        BOOST_TEST(contains(what, "/homes"), what);
        // ...and on a reused one.
        co_await c.send(get(srv.url("/warm")));
        co_await expect_failure(c, req, client::error_kind::unreachable);
    });
    BOOST_TEST(srv.state->request_count() == 3u);
}

BOOST_AUTO_TEST_CASE(idempotent_request_is_retried_once)
{
    net::io_context ioc;
    std::atomic<int> calls{0};
    test_server srv(ioc, [&](const server_request& req) {
        const bool broken = req.target() == "/always-broken" || ++calls % 2 == 1;
        return broken ? reply{action::close_silently, {}} : ok("second");
    });
    client::http_client c(ioc.get_executor());
    run_async(ioc, [&]() -> net::awaitable<void> {
        auto res = co_await c.send(get(srv.url("/x")));
        BOOST_TEST(res.body == "second");
        BOOST_TEST(srv.state->request_count() == 2u);
        // A POST declared idempotent is retried too.
        auto req = post(srv.url("/y"), "{}");
        req.idempotent = true;
        res = co_await c.send(req);
        BOOST_TEST(res.body == "second");
        BOOST_TEST(srv.state->request_count() == 4u);
        // Once: a second failure is final.
        co_await expect_failure(c, get(srv.url("/always-broken")), client::error_kind::unreachable);
    });
    BOOST_TEST(srv.state->request_count() == 6u);
}

BOOST_AUTO_TEST_CASE(connect_refused_is_unreachable)
{
    net::io_context ioc;
    tcp::acceptor probe(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    const auto port = probe.local_endpoint().port();
    probe.close(); // nothing listens there any more
    client::http_client c(ioc.get_executor());
    run_async(ioc, [&]() -> net::awaitable<void> {
        auto req = get("http://127.0.0.1:" + std::to_string(port) + "/");
        req.timeout = 10s; // refused must be reported at once, not as a timeout
        auto what = co_await expect_failure(c, req, client::error_kind::unreachable);
        BOOST_TEST(contains(what, "cannot connect"), what);
    });
}

BOOST_AUTO_TEST_CASE(silent_server_times_out_at_the_deadline)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request&) { return reply{action::hang, {}}; });
    client::http_client c(ioc.get_executor());
    run_async(ioc, [&]() -> net::awaitable<void> {
        auto req = post(srv.url("/slow"), "{}");
        req.timeout = 200ms;
        co_await expect_failure(c, req, client::error_kind::timeout);
        auto g = get(srv.url("/slow"));
        g.timeout = 100ms;
        co_await expect_failure(c, g, client::error_kind::timeout);
    });
    BOOST_TEST(srv.state->request_count() == 2u); // never retried after a timeout
}

BOOST_AUTO_TEST_CASE(connect_timeout_covers_a_stalled_tls_handshake)
{
    net::io_context ioc;
    // Accepts and then says nothing: the client's ClientHello is never answered.
    tcp::acceptor mute(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    std::vector<tcp::socket> held;
    mute.async_accept([&](boost::system::error_code, tcp::socket s) {
        held.push_back(std::move(s));
    });
    client::options opts;
    opts.connect_timeout = 200ms;
    client::http_client c(ioc.get_executor(), opts);
    run_async(ioc, [&]() -> net::awaitable<void> {
        auto req = get("https://127.0.0.1:" + std::to_string(mute.local_endpoint().port()) + "/");
        req.timeout = 60s; // longer than the test may run: only the connect timeout can end it
        auto what = co_await expect_failure(c, req, client::error_kind::timeout);
        BOOST_TEST(contains(what, "connecting"), what);
    });
    BOOST_TEST(held.size() == 1u);
}

BOOST_AUTO_TEST_CASE(garbage_and_oversized_bodies_are_bad_responses)
{
    net::io_context ioc;
    test_server srv(ioc, [](const server_request& req) {
        if (req.target() == "/garbage")
            return reply{action::garbage, {}};
        return ok(std::string(req.target() == "/big" ? 4096 : 1024, 'b'));
    });
    client::options opts;
    opts.body_limit = 1024;
    client::http_client c(ioc.get_executor(), opts);
    run_async(ioc, [&]() -> net::awaitable<void> {
        co_await expect_failure(c, get(srv.url("/garbage")), client::error_kind::bad_response);
        co_await expect_failure(c, get(srv.url("/big")), client::error_kind::bad_response);
        auto res = co_await c.send(get(srv.url("/exact")));
        BOOST_TEST(res.body.size() == 1024u);
    });
    BOOST_TEST(srv.state->request_count() == 3u); // bad responses are not retried
}

BOOST_AUTO_TEST_CASE(tls_with_trusted_ca_succeeds_and_keeps_alive)
{
    net::io_context ioc;
    auto echo = [](const server_request& req) {
        return ok("tls:" + req.body());
    };
    test_server srv(ioc, echo, test::server_tls_context(test::localhost_cert()));
    client::options opts;
    opts.tls = test::client_tls_context_trusting(test::localhost_cert());
    client::http_client c(ioc.get_executor(), opts);
    run_async(ioc, [&]() -> net::awaitable<void> {
        auto res = co_await c.send(post(srv.url("/a", "localhost"), "1"));
        BOOST_TEST(res.body == "tls:1");
        res = co_await c.send(post(srv.url("/b", "localhost"), "2"));
        BOOST_TEST(res.body == "tls:2");
        res = co_await c.send(get(srv.url("/c", "127.0.0.1"))); // IP SAN
        BOOST_TEST(res.status == 200u);
    });
    BOOST_TEST(srv.state->connections == 2); // one per host name
    const std::string host(srv.state->request(0)[http::field::host]);
    BOOST_TEST(host == "localhost:" + std::to_string(srv.port()));
}

BOOST_AUTO_TEST_CASE(tls_rejects_untrusted_and_mismatched_certificates)
{
    net::io_context ioc;
    auto no = [](const server_request&) {
        return ok("no");
    };
    test_server self_signed(ioc, no, test::server_tls_context(test::localhost_cert()));
    test_server wrong_name(ioc, no, test::server_tls_context(other_cert()));
    client::http_client system_cas(ioc.get_executor());
    client::options opts;
    opts.tls = test::client_tls_context_trusting(other_cert());
    client::http_client trusting_other(ioc.get_executor(), opts);
    constexpr auto unreachable = client::error_kind::unreachable;
    run_async(ioc, [&]() -> net::awaitable<void> {
        auto what = co_await expect_failure(
            system_cas, get(self_signed.url("/", "localhost")), unreachable
        );
        BOOST_TEST(contains(what, "certificate rejected"), what);
        for (auto host : {"localhost", "127.0.0.1"}) {
            what = co_await expect_failure(
                trusting_other, get(wrong_name.url("/", host)), unreachable
            );
            BOOST_TEST(contains(what, "certificate rejected"), what);
            BOOST_TEST(contains(what, "mismatch"), what);
        }
    });
    BOOST_TEST(self_signed.state->request_count() == 0u);
    BOOST_TEST(wrong_name.state->request_count() == 0u);
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_rejected_up_front)
{
    net::io_context ioc;
    client::http_client c(ioc.get_executor());
    run_async(ioc, [&]() -> net::awaitable<void> {
        for (auto url : {"ftp://example.com/", "/relative", "http:///nohost", "http://h:99999/"})
            co_await expect_invalid(c, get(url));
        auto req = get("http://127.0.0.1:1/");
        req.headers = {{"X-Injected", "a\r\nEvil: 1"}};
        co_await expect_invalid(c, req);
        req.headers = {{"Bad Name", "v"}};
        co_await expect_invalid(c, req);
    });
}

BOOST_AUTO_TEST_SUITE_END()
