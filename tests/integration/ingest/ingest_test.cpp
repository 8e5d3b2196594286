// webhook-ingest through its real HTTP path, PostgreSQL and Redis.
#include "support/account_flow.hpp"
#include "support/http_call.hpp"
#include "support/services.hpp"
#include "support/slow_sender.hpp"
#include "support/stack.hpp"
#include "support/tcp_relay.hpp"
#include "support/wait.hpp"
#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <set>
#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(ingest)

namespace {

const std::string& hook_url = test::webhook_url;
const std::string& hook_key = test::webhook_key;

std::string event_body(std::int64_t home, const std::string& type, int n = 0)
{
    return json::serialize(json::object{{"homeId", home},
                                        {"timestamp", "2026-11-25T10:00:00.000Z"},
                                        {"eventType", type},
                                        {"eventData", {{"n", n}}},
                                        {"originDeviceId", 260},
                                        {"originDeviceClass", "thermostat"}});
}

test::http_result post_event(const test::running_service& ingest, const std::string& body,
                             const std::string& key = hook_key, const std::string& url = hook_url)
{
    return test::post_signed_event(ingest, body, key, url, {{"X-Mode-ModuleID", "webhooks"}, {"X-Mode-ProjectID", "1"}});
}

int stored(const std::string& db_url, const std::string& where = "true")
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    return tx.exec("SELECT count(*) FROM events WHERE " + where)[0][0].as<int>();
}

using test::expect_problem;

// A Redis subscriber in a child process: every message on `pattern` ends up in its output.
test::process subscribe(const std::string& pattern)
{
    test::process::options o;
    o.argv = {"redis-cli", "-u", test::redis_url(), "--raw", "PSUBSCRIBE", pattern};
    test::process p(std::move(o));
    BOOST_REQUIRE(p.wait_for_output("psubscribe", std::chrono::seconds(10)));
    return p;
}

} // namespace

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

BOOST_AUTO_TEST_CASE(signatures_bodies_and_limits)
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

BOOST_AUTO_TEST_CASE(stored_events_are_published_per_home_with_their_seq)
{
    // The home and the events' contents are drawn from a seed printed here; MB_TEST_SEED replays one.
    std::uint64_t seed = std::random_device{}();
    if (const char* given = std::getenv("MB_TEST_SEED"); given != nullptr && *given != '\0')
        seed = std::stoull(given);
    BOOST_TEST_MESSAGE("MB_TEST_SEED=" << seed);
    BOOST_TEST_CONTEXT("MB_TEST_SEED=" << seed)
    {
        std::mt19937_64 rng(seed);
        const auto home = std::uniform_int_distribution<std::int64_t>(700000, 799999)(rng);
        const int count = 8;
        std::vector<int> ns(1000);
        std::iota(ns.begin(), ns.end(), 0);
        std::shuffle(ns.begin(), ns.end(), rng);
        ns.resize(count);

        test::scratch_database db;
        auto ingest = test::start_ingest(db.url());
        auto sub = subscribe("mb:home:" + std::to_string(home));
        for (int n : ns)
            BOOST_TEST_REQUIRE(post_event(ingest, event_body(home, "temp", n)).status == 204U);

        // What the store holds for the home, in seq order: acknowledged one by one, so in the order sent.
        std::vector<std::pair<std::int64_t, json::object>> in_store;
        {
            pqxx::connection c(db.url());
            pqxx::read_transaction tx(c);
            for (const auto& r : tx.exec_params("SELECT seq, payload FROM events WHERE home_id = $1 ORDER BY seq", home))
                in_store.emplace_back(r[0].as<std::int64_t>(), json::parse(r[1].as<std::string>()).as_object());
        }
        BOOST_TEST_REQUIRE(in_store.size() == static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i)
            BOOST_TEST(in_store[static_cast<std::size_t>(i)].second.at("eventData").at("n").as_int64() ==
                       ns[static_cast<std::size_t>(i)]);

        // What Redis carried on the home's channel, in the order it arrived: each message on a line of
        // its own (redis-cli --raw), the payload the one starting with '{'.
        auto published = [&] {
            std::vector<json::object> out;
            std::istringstream lines(sub.output());
            for (std::string line; std::getline(lines, line);)
                if (!line.empty() && line.front() == '{')
                    out.push_back(json::parse(line).as_object());
            return out;
        };
        auto distinct_seqs = [&] {
            std::set<std::int64_t> seqs;
            for (const auto& m : published())
                seqs.insert(m.at("seq").as_int64());
            return seqs.size();
        };
        // Waited for before the assertion: its message would otherwise be read before the wait.
        const bool all_published = test::eventually(
            [&] { return distinct_seqs() >= static_cast<std::size_t>(count); }, std::chrono::seconds(15));
        BOOST_TEST_REQUIRE(all_published, sub.output());
        auto messages = published();
        // Each stored event once, in seq order, with the seq the store gave it and its stored payload
        // behind `type` and `seq`. A copy republished later (the relay, after a slow update) is allowed
        // only as an exact copy of one already seen.
        std::vector<std::pair<std::int64_t, json::object>> first_seen;
        std::map<std::int64_t, json::object> seen;
        for (const auto& m : messages) {
            auto seq = m.at("seq").as_int64();
            if (auto it = seen.find(seq); it != seen.end()) {
                BOOST_TEST(it->second == m, "seq " << seq << " published again, differently: " << json::serialize(m));
                continue;
            }
            seen.emplace(seq, m);
            BOOST_TEST(m.at("type").as_string() == "event");
            json::object rest = m;
            rest.erase("type");
            rest.erase("seq");
            first_seen.emplace_back(seq, std::move(rest));
        }
        BOOST_TEST_REQUIRE(first_seen.size() == in_store.size(), sub.output());
        for (std::size_t i = 0; i < in_store.size(); ++i) {
            BOOST_TEST_CONTEXT("message " << i)
            {
                BOOST_TEST(first_seen[i].first == in_store[i].first);
                BOOST_TEST(first_seen[i].second == in_store[i].second, json::serialize(first_seen[i].second)
                                                                           << " vs stored "
                                                                           << json::serialize(in_store[i].second));
            }
        }
        // Marked published in the store.
        BOOST_TEST(test::eventually([&] { return stored(db.url(), "NOT published") == 0; }, std::chrono::seconds(10)));
    }
}

BOOST_AUTO_TEST_CASE(a_killed_ingest_loses_nothing_it_acknowledged)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url());
    std::atomic<bool> stop{false};
    std::mutex m;
    std::set<int> acknowledged;
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t)
        senders.emplace_back([&, t] {
            for (int i = 0; !stop; ++i) {
                int n = t * 1'000'000 + i;
                try {
                    if (post_event(ingest, event_body(3, "tick", n)).status == 204U) {
                        std::lock_guard lock(m);
                        acknowledged.insert(n);
                    }
                } catch (const std::exception&) {
                    return; // the process is gone
                }
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    ingest.proc->kill(); // no chance to flush anything
    stop = true;
    for (auto& s : senders)
        s.join();
    BOOST_TEST_REQUIRE(!acknowledged.empty());
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    std::set<int> in_store;
    for (const auto& r : tx.exec("SELECT (payload::json->'eventData'->>'n')::int FROM events"))
        in_store.insert(r[0].as<int>());
    for (int n : acknowledged)
        BOOST_TEST(in_store.count(n) == 1U, "acknowledged event " << n << " is missing");
}

BOOST_AUTO_TEST_CASE(a_database_that_stops_answering_is_a_503_not_a_hang_and_the_redelivery_is_stored_once)
{
    test::scratch_database db;
    test::tcp_relay relay(db.url());
    // One connection: the writer cannot dodge the hung one by opening another.
    auto ingest = test::start_ingest(relay.rewrite_url(db.url()), {{"MB_DB_TIMEOUT", "1s"}, {"MB_DB_POOL_SIZE", "1"}});
    BOOST_TEST_REQUIRE(post_event(ingest, event_body(77, "tick", 0)).status == 204U);

    relay.freeze();
    // The server holds the connection open and says nothing: the ingest gives up on it (within its
    // deadline, far below http_call's 10 s) and acknowledges nothing.
    auto body = event_body(77, "tick", 1);
    expect_problem(post_event(ingest, body), 503, "STORE_UNAVAILABLE");
    BOOST_TEST(test::http_call(ingest.port, http::verb::get, "/readyz").status == 503U);
    BOOST_TEST(test::http_call(ingest.port, http::verb::get, "/healthz").status == 200U);

    relay.thaw();
    // MODE redelivers; it lands, once, whatever became of the attempt that was cut.
    test::http_result again;
    for (int i = 0; i < 50; ++i) {
        again = post_event(ingest, body);
        if (again.status == 204U)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_TEST(again.status == 204U, again);
    BOOST_TEST(stored(db.url(), "home_id = 77") == 2);
    BOOST_TEST(ingest.proc->running());
}

BOOST_AUTO_TEST_SUITE_END()
