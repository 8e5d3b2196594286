// Protocol abuse against the real services, the gateway and webhook-ingest: request smuggling, oversized
// and malformed headers, invalid UTF-8 and deeply nested JSON, slowloris and half-open connections. Each
// is answered clearly (or cut off), and a well-behaved client is served all along. The WebSocket side is
// in protocol_abuse_ws_test.cpp.
#include "integration/ingest/ingest_harness.hpp"
#include "support/metrics_probe.hpp"
#include "support/raw_socket.hpp"

#include <future>
#include <vector>

namespace abuse_http {

using namespace std::chrono_literals;
using env = std::map<std::string, std::string>;

/** The gateway (without MODE: nothing here reaches it) and webhook-ingest on one scratch database. */
struct services
{
    explicit services(const env& settings = {})
        : gw(test::start_gateway(db.url(), "http://127.0.0.1:9", settings))
        , ingest(test::start_ingest(db.url(), settings))
    {
    }

    /** The well-behaved client: the gateway is ready (PostgreSQL and Redis probed) and an event is stored. */
    void served(const std::string& tag)
    {
        auto ready = test::http_call(gw.port, http::verb::get, "/readyz");
        BOOST_TEST(ready.status == 200U, tag << ": gateway " << ready);
        auto event = ingest_harness::post_event(ingest, ingest_harness::event_body(7, "served." + tag));
        BOOST_TEST(event.status == 204U, tag << ": ingest " << event);
    }

    test::scratch_database db;
    test::running_service gw;
    test::running_service ingest;
};

/** The bytes written, then whatever came back until the server closed (or 10 s passed). */
test::slow_send_result exchange(unsigned short port, const std::string& bytes)
{
    return test::send_slowly(port, bytes, "", 1s, 10s);
}

/** How many HTTP responses `raw` holds (status lines). */
int answers(const std::string& raw)
{
    int n = 0;
    for (auto at = raw.find("HTTP/1."); at != std::string::npos; at = raw.find("HTTP/1.", at + 1))
        if (at == 0 || raw.compare(at - 2, 2, "\r\n") == 0)
            ++n;
    return n;
}

/** One refusal: `status` with problem `code`, the only answer, and the connection closed after it. */
void expect_refused(const test::slow_send_result& r, unsigned status, const std::string& code)
{
    BOOST_TEST(r.received.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0) == 0U, r.received);
    BOOST_TEST(r.received.find("application/problem+json") != std::string::npos, r.received);
    BOOST_TEST(r.received.find("\"code\":\"" + code + "\"") != std::string::npos, r.received);
    BOOST_TEST(answers(r.received) == 1, r.received);
    BOOST_TEST(r.closed, "the connection stayed open after " << r.received);
}

/** A signed event as a complete request, to smuggle behind another one. */
std::string signed_event_request(const std::string& body)
{
    std::string req = "POST /v1/mode/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    for (const auto& [name, value] : test::webhook_signature(body))
        req += name + ": " + value + "\r\n";
    return req + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

} // namespace abuse_http

BOOST_AUTO_TEST_SUITE(protocol_abuse)

using namespace std::chrono_literals;

// Two readers that could disagree on where a body ends (a proxy in front and the service) are how
// requests are smuggled: each such request is refused with 400 MALFORMED_REQUEST and the connection is
// closed, so what a proxy would have read as a second request is never served.
BOOST_AUTO_TEST_CASE(smuggling_attempts_are_refused_and_nothing_behind_them_is_served)
{
    abuse_http::services s;
    // Behind each: a chunked end, then a whole request of its own (a signed event, for the ingest).
    const std::string hidden = abuse_http::signed_event_request(ingest_harness::event_body(9, "smuggled"));
    const std::string body = "0\r\n\r\n" + hidden;
    const std::string len = std::to_string(body.size());
    const std::vector<std::pair<std::string, std::string>> framings = {
        {"CL then TE", "Content-Length: " + len + "\r\nTransfer-Encoding: chunked\r\n"},
        {"TE then CL", "Transfer-Encoding: chunked\r\nContent-Length: " + len + "\r\n"},
        {"two Content-Lengths", "Content-Length: " + len + "\r\nContent-Length: 5\r\n"},
        {"TE not ending in chunked", "Transfer-Encoding: chunked, identity\r\n"},
        {"TE gzip", "Transfer-Encoding: gzip\r\n"},
        {"TE twice, chunked first", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"},
    };
    for (auto [service, target] : {std::pair{s.gw.port, "/v1/auth/login"}, std::pair{s.ingest.port, "/v1/mode/events"}}) {
        for (const auto& [what, framing] : framings) {
            BOOST_TEST_CONTEXT(target << ", " << what)
            {
                auto r = abuse_http::exchange(service, std::string("POST ") + target + " HTTP/1.1\r\nHost: x\r\n" +
                                               "Content-Type: application/json\r\n" + framing + "\r\n" + body);
                abuse_http::expect_refused(r, 400, "MALFORMED_REQUEST");
            }
        }
    }
    BOOST_TEST(ingest_harness::stored(s.db.url(), "event_type = 'smuggled'") == 0);
    s.served("after smuggling");
}

// Headers past MB_HEADER_LIMIT (16 KiB) are 431, and lines that are not HTTP are 400: the connection is closed
// after the answer, on both services.
BOOST_AUTO_TEST_CASE(oversized_and_malformed_headers_are_refused_on_both_services)
{
    abuse_http::services s;
    const std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    std::string many_headers;
    for (int i = 0; i < 400; ++i) // 20000 bytes in small lines
        many_headers += "X-H" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
    const std::vector<std::pair<std::string, std::string>> malformed = {
        {"a line without a colon", start + "NoColonHere\r\n\r\n"},
        {"a space in a field name", start + "Bad Name: x\r\n\r\n"},
        {"a space before the colon", start + "Transfer-Encoding : chunked\r\n\r\n"},
        {"a NUL in a value", start + "X-Nul: a" + std::string(1, '\0') + "b\r\n\r\n"},
        {"a request line without a version", "GET /healthz\r\nHost: x\r\n\r\n"},
        {"an unknown protocol", "GET /healthz HTTP/9.1\r\nHost: x\r\n\r\n"},
        {"a request line with extra words", "GET /healthz HTTP/1.1 please\r\nHost: x\r\n\r\n"},
        {"a control character in the target", "GET /hea\x01lthz HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"a TLS hello on the plain port", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11) + "\r\n\r\n"},
    };
    for (auto port : {s.gw.port, s.ingest.port}) {
        BOOST_TEST_CONTEXT("port " << port)
        {
            abuse_http::expect_refused(abuse_http::exchange(port, start + "X-Big: " + std::string(20000, 'a') + "\r\n\r\n"), 431,
                           "HEADERS_TOO_LARGE");
            abuse_http::expect_refused(abuse_http::exchange(port, start + many_headers + "\r\n"), 431, "HEADERS_TOO_LARGE");
            for (const auto& [what, bytes] : malformed) {
                BOOST_TEST_CONTEXT(what) { abuse_http::expect_refused(abuse_http::exchange(port, bytes), 400, "MALFORMED_REQUEST"); }
            }
        }
    }
    s.served("after bad headers");
}

// Bytes that are not UTF-8 in a JSON body make it invalid JSON: 400 MALFORMED_JSON on every gateway route
// that reads one, and, in a correctly signed webhook (so that it is the parsing that refuses), 400
// INVALID_EVENT with nothing stored.
BOOST_AUTO_TEST_CASE(invalid_utf8_in_json_bodies_is_refused_by_both_services)
{
    abuse_http::services s;
    auto token = test::verified_login(s.gw, test::unique_email("utf8"));
    const std::vector<std::pair<std::string, std::string>> bad_text = {
        {"a lone continuation byte", "\x80"},
        {"an invalid byte", "\xff"},
        {"an overlong slash", "\xc0\xaf"},
        {"an encoded surrogate", "\xed\xa0\x80"},
        {"a truncated sequence", "\xe2\x82"},
        {"past U+10FFFF", "\xf4\x90\x80\x80"},
    };
    struct route
    {
        http::verb method;
        std::string path;
        bool authed;
    };
    const std::vector<route> routes = {
        {http::verb::post, "/v1/auth/register", false},        {http::verb::post, "/v1/auth/login", false},
        {http::verb::post, "/v1/auth/forgot-password", false}, {http::verb::post, "/v1/auth/verify-email", false},
        {http::verb::post, "/v1/homes", true},                 {http::verb::patch, "/v1/devices/1", true},
        {http::verb::put, "/v1/devices/1/command", true},      {http::verb::post, "/v1/invitations/accept", true},
    };
    for (const auto& [what, bytes] : bad_text) {
        const std::string body = R"({"email":"x)" + bytes + R"(@example.com","name":"a)" + bytes +
                                 R"(","password":"long enough pass","token":"t","action":"on"})";
        for (const auto& r : routes) {
            BOOST_TEST_CONTEXT(what << ": " << r.path)
            {
                test::header_list h;
                if (r.authed)
                    h.emplace_back("Authorization", "Bearer " + token);
                test::expect_problem(test::http_call(s.gw.port, r.method, r.path, body, h), 400, "MALFORMED_JSON");
            }
        }
        BOOST_TEST_CONTEXT(what << ": webhook")
        {
            auto event = R"({"homeId":9,"eventType":"utf8)" + bytes + R"(","eventData":{"v":"a)" + bytes + R"("}})";
            test::expect_problem(ingest_harness::post_event(s.ingest, event), 400, "INVALID_EVENT");
        }
    }
    // A lone surrogate written as an escape is no more text than its bytes would be.
    test::expect_problem(test::http_call(s.gw.port, http::verb::post, "/v1/auth/login",
                                         R"({"email":"\ud800@example.com","password":"long enough pass"})"),
                         400, "MALFORMED_JSON");
    test::expect_problem(ingest_harness::post_event(s.ingest, R"({"homeId":9,"eventType":"utf8\udc00"})"), 400,
                         "INVALID_EVENT");
    BOOST_TEST(ingest_harness::stored(s.db.url(), "home_id = 9") == 0);
    s.served("after invalid UTF-8");
}

// Nesting far past MB_JSON_MAX_DEPTH (a parser that recursed would run out of stack) is refused at the
// limit, by the gateway and by the ingest alike.
BOOST_AUTO_TEST_CASE(deeply_nested_json_is_refused_by_both_services)
{
    abuse_http::services s;
    for (std::size_t depth : {33U, 1000U, 200'000U}) {
        BOOST_TEST_CONTEXT("depth " << depth)
        {
            const std::string deep = std::string(depth, '[') + std::string(depth, ']');
            auto login = R"({"email":"nobody@example.com","password":"long enough pass","x":)" + deep + "}";
            auto r = test::http_call(s.gw.port, http::verb::post, "/v1/auth/login", login);
            test::expect_problem(r, 400, "JSON_TOO_DEEP");
            auto event = R"({"homeId":9,"eventType":"deep","eventData":{"x":)" + deep + "}}";
            auto e = ingest_harness::post_event(s.ingest, event);
            test::expect_problem(e, 400, "INVALID_EVENT");
            BOOST_TEST(e.body.find("deeper") != std::string::npos, e);
        }
    }
    BOOST_TEST(ingest_harness::stored(s.db.url(), "home_id = 9") == 0);
    s.served("after deep JSON");
}

// Slowloris: many connections, each dribbling header bytes so that it is never idle, and a few that say
// nothing at all. MB_HEADER_TIMEOUT cuts the first, MB_IDLE_TIMEOUT the others, and a normal client is
// served on both services all the while. (Every connection comes from 127.0.0.1 here, so the per-address
// limit, MB_MAX_CONNECTIONS_PER_ADDRESS, is lifted: this test is about the timeouts.)
BOOST_AUTO_TEST_CASE(slowloris_is_cut_off_by_the_timeouts_while_others_are_served)
{
    abuse_http::services s(abuse_http::env{{"MB_HEADER_TIMEOUT", "1s"}, {"MB_IDLE_TIMEOUT", "2s"}, {"MB_MAX_CONNECTIONS_PER_ADDRESS", "0"}});
    const std::string head = "GET /readyz HTTP/1.1\r\nHost: x\r\n";
    const std::string dribble = "X-Slow: " + std::string(400, 'a'); // 40 s at one byte every 100 ms
    std::vector<std::future<test::slow_send_result>> slow;
    for (int i = 0; i < 40; ++i) {
        auto port = i % 2 == 0 ? s.gw.port : s.ingest.port;
        slow.push_back(std::async(std::launch::async,
                                  [port, &head, &dribble] { return test::send_slowly(port, head, dribble, 100ms, 20s); }));
    }
    std::vector<std::unique_ptr<test::raw_connection>> silent;
    for (int i = 0; i < 10; ++i)
        silent.push_back(std::make_unique<test::raw_connection>(i % 2 == 0 ? s.gw.port : s.ingest.port));

    int served_meanwhile = 0;
    auto all_done = [&] {
        for (auto& f : slow)
            if (f.wait_for(0s) != std::future_status::ready)
                return false;
        return true;
    };
    while (!all_done()) {
        s.served("during slowloris " + std::to_string(served_meanwhile));
        ++served_meanwhile;
    }
    BOOST_TEST(served_meanwhile >= 1);
    for (auto& f : slow) {
        auto r = f.get();
        BOOST_TEST(r.closed, "a slow sender was held " << r.after.count() << " ms");
        BOOST_TEST(r.trickled < dribble.size());
        BOOST_TEST(r.received.find("HTTP/1.1 2") == std::string::npos, r.received);
    }
    for (auto& c : silent) {
        BOOST_TEST(c->wait_closed(20s), "a silent connection was held");
        BOOST_TEST(c->received().empty(), c->received());
    }
    s.served("after slowloris");
}

// A kept-alive client that vanishes without a FIN (the relay freezes: no bytes, no close) holds its
// connection only until MB_IDLE_TIMEOUT.
BOOST_AUTO_TEST_CASE(a_half_open_keep_alive_connection_is_closed_by_the_idle_timeout)
{
    abuse_http::services s(abuse_http::env{{"MB_IDLE_TIMEOUT", "1s"}});
    for (auto port : {s.gw.port, s.ingest.port}) {
        BOOST_TEST_CONTEXT("port " << port)
        {
            // The probe's own connection counts while it is served: the same in every reading.
            auto open = [port] { return test::metric_sample(port, "mb_http_connections"); };
            auto before = open();
            test::tcp_relay relay("127.0.0.1", port);
            test::raw_connection c(relay.port());
            BOOST_TEST_REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
            BOOST_TEST_REQUIRE(c.read_until([](const std::string& r) { return r.find("\r\n\r\n") != std::string::npos; }, 5s));
            BOOST_TEST(c.received().rfind("HTTP/1.1 200", 0) == 0U, c.received());
            BOOST_TEST(open() == before + 1);
            relay.freeze();
            BOOST_TEST(test::eventually([&] { return open() == before; }, 15s), "still open: " << open() - before);
            BOOST_TEST(!c.peer_closed()); // the client saw nothing: it is the server that let go
        }
    }
    s.served("after half-open");
}

BOOST_AUTO_TEST_SUITE_END()
