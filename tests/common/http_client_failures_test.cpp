// http_client: what fails, how it is reported, and what is retried; requests refused before any I/O.

#include "support/http_client_harness.hpp"

using namespace http_client_harness;

BOOST_AUTO_TEST_SUITE(http_client)

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
