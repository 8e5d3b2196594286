// http_client: round trips, and reusing, replacing and sharing pooled connections.

#include "support/http_client_harness.hpp"

using namespace http_client_harness;

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

BOOST_AUTO_TEST_SUITE_END()
