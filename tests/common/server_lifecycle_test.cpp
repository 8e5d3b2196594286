// The server: shutdown, health and readiness, metrics and TLS.
#include "common/server_harness.hpp"

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(shutdown_closes_idle_connections_refuses_new_ones_and_waits_for_requests_in_flight)
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

BOOST_AUTO_TEST_CASE(a_request_over_tls_is_answered_with_a_request_id)
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
