// webhook-ingest receiving MODE's events: signatures, bodies and limits, NUL, redeliveries, slow senders.
#include "integration/ingest/ingest_harness.hpp"

BOOST_AUTO_TEST_SUITE(ingest)

BOOST_AUTO_TEST_CASE(the_mode_test_vector_is_accepted_and_stored)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url(), {{"MB_WEBHOOK_URL", "https://example.com/evt"}, {"MB_WEBHOOK_KEY", "testkey123"},
                                                {"MB_WEBHOOK_PATH", "/v1/mode/events"}});
    const std::string body =
        R"({"homeId":173,"timestamp":"2016-01-04T23:26:09.521Z","eventType":"abc","eventData":{},"originDeviceId":260})";
    auto r = test::http_call(ingest.port, http::verb::post, "/v1/mode/events", body,
                             {{"X-Mode-Signature", "de0f8e46c21a72fa5619b8ab30ff8754d3d20f668d9d541a1023fb82abafec97"}});
    BOOST_TEST(r.status == 204U, r);
    BOOST_TEST(stored(db.url(), "home_id = 173 AND event_type = 'abc'") == 1);
}

BOOST_AUTO_TEST_CASE(only_events_signed_with_a_current_key_for_our_url_and_within_the_limits_are_stored)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url(), {{"MB_WEBHOOK_KEY", "new-key," + hook_key}, {"MB_BODY_LIMIT", "4096"}});
    auto body = event_body(5, "door.opened");

    expect_problem(test::http_call(ingest.port, http::verb::post, "/v1/mode/events", body), 401, "INVALID_SIGNATURE");
    expect_problem(post_event(ingest, body, "wrong-key"), 401, "INVALID_SIGNATURE");
    // Signed over another URL (a rebuilt one): refused.
    expect_problem(post_event(ingest, body, hook_key, "http://127.0.0.1/v1/mode/events"), 401, "INVALID_SIGNATURE");
    // The signature is checked before the body is looked at: a bad body with a bad signature is a 401.
    expect_problem(post_event(ingest, "not json", "wrong-key"), 401, "INVALID_SIGNATURE");
    BOOST_TEST(stored(db.url()) == 0);

    // Both keys of a rotation work.
    BOOST_TEST(post_event(ingest, body, hook_key).status == 204U);
    BOOST_TEST(post_event(ingest, event_body(5, "door.closed"), "new-key").status == 204U);

    for (std::string bad : {std::string("not json"), std::string("[1]"), std::string(R"({"homeId":5})"),
                            std::string(R"({"eventType":"x"})"), std::string(R"({"homeId":"5","eventType":"x"})"),
                            std::string(R"({"homeId":5,"eventType":""})"),
                            std::string(R"({"homeId":5,"eventType":"x","eventData":[]})")}) {
        BOOST_TEST_CONTEXT(bad)
        {
            expect_problem(post_event(ingest, bad), 400, "INVALID_EVENT");
        }
    }
    std::string big = event_body(5, std::string(5000, 'x'));
    auto too_big = post_event(ingest, big);
    BOOST_TEST(too_big.status == 413U, too_big);
    BOOST_TEST(stored(db.url()) == 2);
}

// PostgreSQL text and jsonb cannot hold U+0000: an event with it anywhere is a 400, not a 500.
BOOST_AUTO_TEST_CASE(an_event_with_nul_alone_is_a_400)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url());
    for (std::string bad : {std::string(R"({"homeId":5,"eventType":"door\u0000opened"})"),
                            std::string(R"({"homeId":5,"eventType":"x","eventData":{"a":{"b":["ok","n\u0000ul"]}}})"),
                            std::string(R"({"homeId":5,"eventType":"x","eventData":{"k\u0000ey":1}})"),
                            std::string(R"({"homeId":5,"eventType":"x","origin":"\u0000"})")}) {
        BOOST_TEST_CONTEXT(bad)
        {
            expect_problem(post_event(ingest, bad), 400, "INVALID_EVENT");
        }
    }
    BOOST_TEST(stored(db.url()) == 0);
    // The service is still fine afterwards.
    auto ok = post_event(ingest, event_body(5, "door.opened"));
    BOOST_TEST(ok.status == 204U, ok);
    BOOST_TEST(stored(db.url()) == 1);
}

// NUL events sent concurrently with good ones: the good ones (possibly committed in the same batch)
// are all acknowledged and stored, each bad one is a 400.
BOOST_AUTO_TEST_CASE(nul_events_among_concurrent_good_ones_lose_nothing)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url());
    std::vector<std::thread> threads;
    std::atomic<int> good_ok{0};
    std::atomic<int> bad_400{0};
    std::atomic<int> unexpected{0};
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                if (i % 4 == 0) {
                    // NUL in the event type (a text column) or deep in the data.
                    json::object bad;
                    bad["homeId"] = 11;
                    bad["eventType"] = i % 8 == 0 ? std::string("bad\0type", 8) : std::string("bad");
                    bad["eventData"] = json::object{{"v", json::array{1, std::string("x\0y", 3)}}};
                    bad["n"] = t * 100 + i;
                    auto body = json::serialize(bad);
                    auto r = post_event(ingest, body);
                    if (r.status == 400U && r.json().at("code").as_string() == "INVALID_EVENT")
                        ++bad_400;
                    else
                        ++unexpected;
                } else {
                    auto r = post_event(ingest, event_body(11, "good", t * 100 + i));
                    if (r.status == 204U)
                        ++good_ok;
                    else
                        ++unexpected;
                }
            }
        });
    for (auto& th : threads)
        th.join();
    BOOST_TEST(unexpected.load() == 0);
    BOOST_TEST(bad_400.load() == 6 * 5);
    BOOST_TEST(good_ok.load() == 6 * 15);
    BOOST_TEST(stored(db.url(), "event_type = 'good'") == 6 * 15);
    BOOST_TEST(stored(db.url(), "event_type <> 'good'") == 0);
}

BOOST_AUTO_TEST_CASE(a_redelivery_is_acknowledged_and_stored_once)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url());
    auto body = event_body(9, "motion");
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(post_event(ingest, body).status == 204U);
    // Concurrent redeliveries of one body, mixed with distinct events.
    std::vector<std::thread> threads;
    std::atomic<int> acknowledged{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                if (post_event(ingest, i % 5 == 0 ? body : event_body(9, "motion", t * 100 + i)).status == 204U)
                    ++acknowledged;
            }
        });
    for (auto& th : threads)
        th.join();
    BOOST_TEST(acknowledged.load() == 200);
    BOOST_TEST(stored(db.url()) == 1 + 8 * 20);
    // seq values are distinct and ordered by commit.
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    BOOST_TEST(tx.exec1("SELECT count(DISTINCT seq) FROM events")[0].as<int>() == 1 + 8 * 20);
}

BOOST_AUTO_TEST_CASE(slow_senders_are_cut_off)
{
    using namespace std::chrono_literals;
    // Distinct timeouts, so that which of them cut a connection shows in when it was cut.
    const long long header_timeout_ms = 1000;
    const long long body_timeout_ms = 3000;
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url(), {{"MB_HEADER_TIMEOUT", "1000ms"}, {"MB_BODY_TIMEOUT", "3000ms"}});
    // The client would wait 20 s: a server that holds the connection is seen as such.
    const auto client_limit = 20s;

    // Headers sent a byte every 100 ms (never idle for long, never finished): cut off after the header
    // timeout, counted from their start.
    const std::string start_line = "POST /v1/mode/events HTTP/1.1\r\nHost: x\r\n";
    auto headers = test::send_slowly(ingest.port, start_line, "X-Slow: " + std::string(1000, 'a'), 100ms, client_limit);
    BOOST_TEST_MESSAGE("slow headers: " << headers.how << " after " << headers.after.count() << " ms");
    BOOST_TEST(headers.closed, "the server held slow headers for " << headers.after.count() << " ms");
    BOOST_TEST(headers.after.count() >= header_timeout_ms / 2);
    BOOST_TEST(headers.after.count() <= header_timeout_ms * 3);
    BOOST_TEST(headers.received.find("HTTP/1.1 2") == std::string::npos, headers.received);

    // Complete headers, then the body a byte every 100 ms: cut off after the body timeout (not the
    // header timeout), however busy the connection is.
    const std::string head = "POST /v1/mode/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Content-Length: 1000\r\n\r\n{\"homeId\":";
    auto body = test::send_slowly(ingest.port, head, std::string(900, '1'), 100ms, client_limit);
    BOOST_TEST_MESSAGE("slow body: " << body.how << " after " << body.after.count() << " ms, " << body.trickled
                                     << " bytes trickled");
    BOOST_TEST(body.closed, "the server held a slow body for " << body.after.count() << " ms");
    BOOST_TEST(body.after.count() >= body_timeout_ms / 2);
    BOOST_TEST(body.after.count() <= body_timeout_ms * 3);
    BOOST_TEST(body.received.find("HTTP/1.1 2") == std::string::npos, body.received);
    BOOST_TEST(stored(db.url()) == 0);

    // The service goes on serving.
    BOOST_TEST(ingest.proc->running());
    BOOST_TEST(post_event(ingest, event_body(1, "after")).status == 204U);
    BOOST_TEST(stored(db.url()) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
