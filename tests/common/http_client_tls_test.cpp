// http_client over TLS: trusted servers and kept-alive connections, and certificates it must reject.

#include "support/http_client_harness.hpp"

using namespace http_client_harness;

BOOST_AUTO_TEST_SUITE(http_client)

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

BOOST_AUTO_TEST_SUITE_END()
