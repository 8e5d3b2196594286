// The operator metrics, read as Prometheus reads them: real traffic through a gateway and a
// webhook-ingest (sign-up with its mail, MODE calls that succeed and fail, a live stream fed by signed
// webhooks, a duplicate delivery, a Redis restart), GET /metrics scraped before and after and parsed,
// and the numbers checked to have moved by what happened. The exposition must be well-formed, and no
// label value may carry a secret or a path with ids in it.
#include "support/live_deployment.hpp"
#include "support/prometheus_text.hpp"
#include "support/wait.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(metrics)

namespace {

// A scrape of both services, with what it must satisfy whenever it is taken.
struct scrapes
{
    test::exposition gw;
    test::exposition ingest;
};

scrapes scrape_both(live::deployment& d)
{
    scrapes s{test::scrape(d.gw.port), test::scrape(d.ingest.port)};
    for (const auto* e : {&s.gw, &s.ingest}) {
        auto problems = test::exposition_problems(*e);
        for (const auto& p : problems)
            BOOST_ERROR("malformed exposition: " << p);
    }
    return s;
}

double delta(const test::exposition& before, const test::exposition& after, const std::string& name,
             const test::metric_labels& l = {})
{
    return after.sum(name, l) - before.sum(name, l);
}

bool all_digits(const std::string& s)
{
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// Label values that would leak a secret or grow without bound: secrets, an email, a query, a path
// segment that is an id.
void check_labels(const test::exposition& e, const std::vector<std::string>& secrets)
{
    for (const auto& s : e.samples) {
        for (const auto& [k, v] : s.labels) {
            for (const auto& secret : secrets)
                BOOST_TEST(v.find(secret) == std::string::npos, s.name << " label " << k << " holds a secret");
            BOOST_TEST(v.find('?') == std::string::npos, s.name << " label " << k << "=" << v << " has a query");
            BOOST_TEST(v.find('@') == std::string::npos, s.name << " label " << k << "=" << v);
            std::size_t at = 0;
            while (at < v.size()) {
                auto end = v.find('/', at);
                auto segment = v.substr(at, end == std::string::npos ? std::string::npos : end - at);
                BOOST_TEST((!all_digits(segment) || k == "le" || k == "status"),
                           s.name << " label " << k << "=" << v << " holds an id");
                if (end == std::string::npos)
                    break;
                at = end + 1;
            }
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(traffic_moves_the_numbers_it_should)
{
    live::deployment d;
    auto first = scrape_both(d);
    // The metrics the docs promise are there before any traffic.
    for (const char* name : {"mb_live_streams_opened_total", "mb_live_frames_sent_total", "mb_live_bytes_sent_total",
                             "mb_db_pool_in_use", "mb_mail_outbox_depth", "mb_redis_reconnects_total"})
        BOOST_TEST(first.gw.types.count(name) == 1U, name << " missing on the gateway");
    for (const char* name : {"mb_webhook_accepted_total", "mb_db_pool_wait_seconds", "mb_redis_reconnects_total"})
        BOOST_TEST(first.ingest.types.count(name) == 1U, name << " missing on webhook-ingest");

    // Sign-up (a verification mail sent), login, a home created in MODE.
    auto u = d.new_user("metrics");
    BOOST_TEST_REQUIRE(test::eventually([&] { return test::scrape(d.gw.port).sum("mb_mail_total", {{"outcome", "sent"}}) >= 1; },
                                        std::chrono::seconds(10)));
    auto before = scrape_both(d);
    BOOST_TEST(delta(first.gw, before.gw, "mb_mode_requests_total", {{"method", "POST"}, {"endpoint", "/homes"}, {"outcome", "2xx"}}) == 1);
    BOOST_TEST(delta(first.gw, before.gw, "mb_mode_requests_total", {{"method", "POST"}, {"endpoint", "/users"}, {"outcome", "2xx"}}) == 1);

    // A MODE call that succeeds, and one that MODE fails (500, injected once).
    const auto home_path = "/homes/" + std::to_string(u.home);
    BOOST_TEST_REQUIRE(d.call(http::verb::get, "/v1" + home_path, u.token).status == 200U);
    json::object fault;
    fault["path"] = home_path;
    fault["method"] = "GET";
    fault["status"] = 500;
    fault["count"] = 1;
    auto added = test::http_call(d.sim.port, http::verb::post, "/_sim/faults", json::serialize(fault));
    BOOST_TEST_REQUIRE(added.status == 204U, added);
    auto failed = d.call(http::verb::get, "/v1" + home_path, u.token);
    BOOST_TEST(failed.status >= 500U, failed);

    // A live stream that gets events from signed webhooks, then the client closes it; a malformed one.
    auto ws = d.stream(u);
    live::until_ready(*ws);
    const int n = 3;
    for (int i = 1; i <= n; ++i)
        d.emit(u.home, i);
    for (int i = 1; i <= n; ++i)
        BOOST_TEST(live::n_of(live::next(*ws)) == i);
    ws->close(1000);
    BOOST_TEST(ws->wait_closed(std::chrono::seconds(5)));
    {
        auto bad = d.stream(u, "?after=minus-one");
        BOOST_TEST(bad->wait_closed(std::chrono::seconds(5)));
    }
    // The same delivery again: a duplicate, stored once.
    d.emit(u.home, 1);

    // Counted once the streams have ended on the gateway's side.
    const test::metric_labels client_close{{"reason", "client"}};
    BOOST_TEST_REQUIRE(test::eventually([&] {
        auto now = test::scrape(d.gw.port);
        return delta(before.gw, now, "mb_live_streams_closed_total") == 2;
    }, std::chrono::seconds(10)));
    auto after = scrape_both(d);

    // HTTP: by route pattern and status, timed by route.
    const test::metric_labels home_route{{"route", "/v1/homes/{homeId}"}};
    BOOST_TEST(delta(before.gw, after.gw, "mb_http_requests_total",
                     {{"method", "GET"}, {"route", "/v1/homes/{homeId}"}, {"status", "200"}}) == 1);
    BOOST_TEST(delta(before.gw, after.gw, "mb_http_request_duration_seconds_count", home_route) == 2);

    // MODE: one call answered 2xx, one 5xx, both timed.
    const test::metric_labels get_home{{"method", "GET"}, {"endpoint", "/homes/{id}"}};
    auto with = [](test::metric_labels l, const std::string& outcome) {
        l["outcome"] = outcome;
        return l;
    };
    BOOST_TEST(delta(before.gw, after.gw, "mb_mode_requests_total", with(get_home, "2xx")) == 1);
    BOOST_TEST(delta(before.gw, after.gw, "mb_mode_requests_total", with(get_home, "5xx")) == 1);
    BOOST_TEST(delta(before.gw, after.gw, "mb_mode_request_duration_seconds_count", get_home) == 2);

    // Live: one stream opened and ended by its client, one refused for its query; frames and bytes sent.
    BOOST_TEST(delta(before.gw, after.gw, "mb_live_streams_opened_total") == 2);
    BOOST_TEST(delta(before.gw, after.gw, "mb_live_streams_closed_total", client_close) == 1);
    BOOST_TEST(delta(before.gw, after.gw, "mb_live_streams_closed_total", {{"reason", "bad_request_1008"}}) == 1);
    BOOST_TEST(delta(before.gw, after.gw, "mb_live_frames_sent_total") >= n + 1); // the events and `ready`
    BOOST_TEST(delta(before.gw, after.gw, "mb_live_bytes_sent_total") > 40.0 * n);
    BOOST_TEST(after.gw.sum("mb_live_streams") == 0);

    // Ingest: n + 1 deliveries accepted, n stored, 1 duplicate, n published directly.
    BOOST_TEST(delta(before.ingest, after.ingest, "mb_webhook_accepted_total") == n + 1);
    BOOST_TEST(delta(before.ingest, after.ingest, "mb_events_stored_total") == n);
    BOOST_TEST(delta(before.ingest, after.ingest, "mb_events_duplicate_total") == 1);
    BOOST_TEST(delta(before.ingest, after.ingest, "mb_events_published_total", {{"path", "direct"}}) == n);

    // The database pool: every query waited for a connection, timed.
    BOOST_TEST(delta(first.gw, after.gw, "mb_db_pool_wait_seconds_count") > 0);
    BOOST_TEST(delta(before.ingest, after.ingest, "mb_db_pool_wait_seconds_count") >= n + 1);
    BOOST_TEST(after.gw.count("mb_db_pool_in_use") == 1U);

    // Mail: the sign-up mail sent, nothing failed, the outbox drained.
    BOOST_TEST(after.gw.sum("mb_mail_total", {{"outcome", "failed"}}) == 0);
    BOOST_TEST(test::eventually([&] { return test::scrape(d.gw.port).sum("mb_mail_outbox_depth") == 0; },
                                std::chrono::seconds(10)));

    // Redis restarted: every connection of both services counts one reconnect, and an event stored
    // meanwhile is relayed once Redis is back.
    d.redis.kill();
    d.emit(u.home, 100);
    d.redis.start();
    auto reconnected = [&](unsigned short port, const std::string& role, const test::exposition& was) {
        return test::eventually([&] {
            return delta(was, test::scrape(port), "mb_redis_reconnects_total", {{"connection", role}}) == 1;
        }, std::chrono::seconds(20));
    };
    BOOST_TEST(reconnected(d.gw.port, "commands", after.gw));
    BOOST_TEST(reconnected(d.gw.port, "sessions", after.gw));
    BOOST_TEST(reconnected(d.gw.port, "live", after.gw));
    BOOST_TEST(reconnected(d.ingest.port, "commands", after.ingest));
    BOOST_TEST(test::eventually([&] {
        return delta(after.ingest, test::scrape(d.ingest.port), "mb_events_published_total", {{"path", "relay"}}) == 1;
    }, std::chrono::seconds(20)));

    // No label value carries a secret, an email, a query or an id.
    auto last = scrape_both(d);
    const std::vector<std::string> secrets{u.token, test::good_password, test::webhook_key, u.email};
    check_labels(last.gw, secrets);
    check_labels(last.ingest, secrets);
}

// The checks above would catch a malformed exposition: each fault here is reported.
BOOST_AUTO_TEST_CASE(malformed_expositions_are_reported)
{
    const std::string good = "# TYPE mb_h_seconds histogram\n"
                             "mb_h_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"
                             "mb_h_seconds_bucket{route=\"/a\",le=\"+Inf\"} 2\n"
                             "mb_h_seconds_sum{route=\"/a\"} 0.3\n"
                             "mb_h_seconds_count{route=\"/a\"} 2\n";
    auto ok = test::parse_exposition(good);
    BOOST_TEST(test::exposition_problems(ok).empty());
    BOOST_TEST(ok.sum("mb_h_seconds_count", {{"route", "/a"}}) == 2);
    auto problems = [](const std::string& text) { return test::exposition_problems(test::parse_exposition(text)).size(); };
    BOOST_TEST(problems(good + "mb_untyped_total 1\n") == 1U);
    BOOST_TEST(problems(good + "mb_bad{x=\"1\" 1\n") == 1U);
    auto not_cumulative = good;
    not_cumulative.replace(not_cumulative.find("} 2\n"), 4, "} 0\n");
    BOOST_TEST(problems(not_cumulative) >= 1U);
    auto wrong_count = good;
    wrong_count.replace(wrong_count.rfind("} 2\n"), 4, "} 3\n");
    BOOST_TEST(problems(wrong_count) == 1U);
    auto no_inf = good;
    no_inf.erase(no_inf.find("mb_h_seconds_bucket{route=\"/a\",le=\"+Inf"), std::string("mb_h_seconds_bucket{route=\"/a\",le=\"+Inf\"} 2\n").size());
    BOOST_TEST(problems(no_inf) >= 1U);
}

BOOST_AUTO_TEST_SUITE_END()
