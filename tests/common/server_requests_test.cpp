// The server: request ids, keep-alive, HEAD, routing, 100-continue and what a handler answers.
#include "common/server_harness.hpp"

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

BOOST_AUTO_TEST_CASE(a_request_expecting_100_continue_gets_the_interim_answer_then_its_response)
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

BOOST_AUTO_TEST_SUITE_END()
