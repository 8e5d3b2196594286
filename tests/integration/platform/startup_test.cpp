// Service start-up and shut-down as operators see them: settings validation, migrations when several
// instances start at once, readiness, graceful stop.
#include "support/deployment.hpp"
#include "support/http_call.hpp"
#include "support/live_deployment.hpp"
#include "support/mode_fixture.hpp"
#include "support/services.hpp"
#include "support/stack.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"
#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <future>
#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(startup)

namespace {

std::map<std::string, std::string> gateway_env(const std::string& db_url)
{
    return {{"MB_DATABASE_URL", db_url},
            {"MB_REDIS_URL", test::redis_url()},
            {"MB_MODE_API_URL", "http://127.0.0.1:9"},
            {"MB_MODE_PROJECT_ID", "1"},
            {"MB_MODE_PROJECT_KEY", "sim-project-key"},
            {"MB_SECRET_KEY", test::random_secret_key()},
            {"MB_PUBLIC_URL", "http://app.example.test"},
            {"MB_LISTEN", "127.0.0.1:" + std::to_string(test::free_port())}};
}

// Runs the gateway with `env` (minus `unset`) and returns {exit code, output}.
std::pair<int, std::string> run_gateway_expecting_exit(std::map<std::string, std::string> env,
                                                       std::vector<std::string> unset = {})
{
    test::process::options o;
    o.argv = {test::binary_path("services/gateway/modebridge-gateway")};
    o.env = std::move(env);
    o.unset_env = std::move(unset);
    for (const auto& name : o.unset_env)
        o.env.erase(name);
    test::process p(std::move(o));
    auto code = p.wait(std::chrono::seconds(20));
    BOOST_REQUIRE_MESSAGE(code.has_value(), "the gateway should have exited:\n" + p.output());
    return {*code, p.output()};
}

std::size_t count_lines(const std::string& text)
{
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// True once 127.0.0.1:`port` refuses new connections (polled for at most `limit`).
bool refuses_connections(unsigned short port, std::chrono::milliseconds limit)
{
    return test::eventually(
        [port] {
            net::io_context ioc;
            net::ip::tcp::socket s(ioc);
            boost::system::error_code ec;
            s.connect({net::ip::make_address("127.0.0.1"), port}, ec);
            return ec == net::error::connection_refused;
        },
        limit);
}

} // namespace

BOOST_AUTO_TEST_CASE(missing_database_url_stops_with_one_clear_line)
{
    test::scratch_database db;
    auto [code, out] = run_gateway_expecting_exit(gateway_env(db.url()), {"MB_DATABASE_URL"});
    BOOST_TEST(code == 2);
    BOOST_TEST(count_lines(out) == 1U, "expected one line, got:\n" << out);
    BOOST_TEST(out.find("MB_DATABASE_URL") != std::string::npos, out);
    BOOST_TEST(out.find("required") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(malformed_settings_are_named_without_their_values)
{
    test::scratch_database db;
    struct bad_case
    {
        std::string var, value;
    };
    std::vector<bad_case> cases{
        {"MB_SECRET_KEY", "c2hvcnQta2V5LXNlY3JldA=="}, // 16 bytes, not 32
        {"MB_SECRET_KEY_PREVIOUS", "c2hvcnQta2V5LXNlY3JldA=="},
        {"MB_DATABASE_URL", "mysql://user:hunter2secret@db/x"},
        {"MB_REDIS_URL", "http://redis-secret-host:6379"},
        {"MB_LISTEN", "nonsense-listen-value"},
        {"MB_MODE_PROJECT_ID", "seventeen"},
        {"MB_DB_TIMEOUT", "forever-and-a-day"},
        {"MB_LIVE_BACKLOG", "lots-of-messages"},
        {"MB_LIVE_RECHECK", "now-and-then"},
        {"MB_MEMBERSHIP_MAX_AGE", "a-while"},
        {"MB_MAX_CONNECTIONS", "plenty-of-them"},
        {"MB_CONNECTION_RATE", "quick-ish"},
        {"MB_LIVE_STREAMS_PER_USER", "several-streams"},
        {"MB_WS_WRITE_TIMEOUT", "eventually"},
        {"MB_HEADER_LIMIT", "roomy-headers"},
        {"MB_URL_LIMIT", "long-urls-please"},
        {"MB_WS_MESSAGE_LIMIT", "chatty-clients"},
        {"MB_MAX_CONNECTIONS_PER_ADDRESS", "a-crowd"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.var)
        {
            auto env = gateway_env(db.url());
            env[c.var] = c.value;
            auto [code, out] = run_gateway_expecting_exit(env);
            BOOST_TEST(code == 2);
            BOOST_TEST(count_lines(out) == 1U, out);
            BOOST_TEST(out.find(c.var) != std::string::npos, out);
            BOOST_TEST(out.find(c.value) == std::string::npos, "the value leaked: " << out);
        }
    }
}

BOOST_AUTO_TEST_CASE(two_gateways_starting_at_once_migrate_once)
{
    test::deployment d({.gateways = 2, .wait_ready = false});
    auto& a = d.gw(0);
    auto& b = d.gw(1);
    BOOST_REQUIRE_MESSAGE(test::wait_until_ready(a), a.proc->output());
    BOOST_REQUIRE_MESSAGE(test::wait_until_ready(b), b.proc->output());

    pqxx::connection c(d.db.url());
    pqxx::read_transaction tx(c);
    auto versions = tx.exec("SELECT version, count(*) FROM schema_migrations GROUP BY version");
    BOOST_TEST(!versions.empty());
    for (const auto& row : versions)
        BOOST_TEST(row[1].as<int>() == 1);
    // Exactly one of the two applied the schema; the other waited on the lock and found it done.
    auto applied = [](const test::running_service& s) {
        return s.proc->output().find("\"db.migration_applied\"") != std::string::npos;
    };
    BOOST_TEST(applied(a) != applied(b), "gateway A:\n" << a.proc->output() << "\ngateway B:\n" << b.proc->output());
    // Both serve.
    BOOST_TEST(test::http_call(a.port, http::verb::get, "/healthz").status == 200U);
    BOOST_TEST(test::http_call(b.port, http::verb::get, "/healthz").status == 200U);
}

BOOST_AUTO_TEST_CASE(ingest_starts_migrates_and_serves_health_readiness_and_metrics)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url());
    auto ready = test::http_call(ingest.port, http::verb::get, "/readyz");
    BOOST_TEST(ready.status == 200U, ready);
    BOOST_TEST(ready.json().at("checks").at("database").as_string() == "ok");
    BOOST_TEST(ready.json().at("checks").at("redis").as_string() == "ok");
    BOOST_TEST(test::http_call(ingest.port, http::verb::get, "/healthz").status == 200U);
    auto metrics = test::http_call(ingest.port, http::verb::get, "/metrics");
    BOOST_TEST(metrics.status == 200U);
    BOOST_TEST(metrics.header("Content-Type").find("text/plain") == 0U);
    BOOST_TEST(metrics.body.find("mb_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}") !=
               std::string::npos, metrics.body);

    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    BOOST_TEST(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>() > 0);
}

BOOST_AUTO_TEST_CASE(readiness_names_the_part_that_is_down_and_requests_get_503)
{
    test::scratch_database db;
    // Redis unreachable: the gateway runs, says which part is missing, and does not crash.
    auto dead_redis = "redis://127.0.0.1:" + std::to_string(test::free_port());
    auto gw = test::start_gateway(db.url(), "http://127.0.0.1:9", {{"MB_REDIS_URL", dead_redis}}, false);
    BOOST_REQUIRE(test::wait_for_port(gw.port, std::chrono::seconds(20)));
    test::http_result ready;
    for (int i = 0; i < 100; ++i) { // until the migrations ran, the database is not ready either
        ready = test::http_call(gw.port, http::verb::get, "/readyz");
        if (ready.json().at("checks").at("database").as_string() == "ok")
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(ready.status == 503U);
    BOOST_TEST(ready.header("Content-Type") == "application/problem+json");
    BOOST_TEST(ready.json().at("code").as_string() == "NOT_READY");
    BOOST_TEST(ready.json().at("checks").at("redis").as_string() == "unavailable");
    BOOST_TEST(ready.json().at("checks").at("database").as_string() == "ok");
    BOOST_TEST(std::string(ready.json().at("detail").as_string()).find("redis") != std::string::npos);

    // PostgreSQL unreachable: readiness says so and requests that need it get a 503, not a crash.
    auto dead_db = "postgresql://modebridge:x@127.0.0.1:" + std::to_string(test::free_port()) + "/modebridge";
    auto gw2 = test::start_gateway(dead_db, "http://127.0.0.1:9", {}, false);
    BOOST_REQUIRE(test::wait_for_port(gw2.port, std::chrono::seconds(20)));
    auto ready2 = test::http_call(gw2.port, http::verb::get, "/readyz");
    BOOST_TEST(ready2.status == 503U);
    BOOST_TEST(ready2.json().at("checks").at("database").as_string() == "unavailable");
    auto reg = test::http_call(gw2.port, http::verb::post, "/v1/auth/register",
                               R"({"email":"x@example.com","password":"long enough password","name":"X"})");
    BOOST_TEST(reg.status == 503U, reg);
    BOOST_TEST(reg.json().at("code").as_string() == "STORE_UNAVAILABLE");
    BOOST_TEST(!reg.header("Retry-After").empty());
    BOOST_TEST(gw2.proc->running());
}

BOOST_AUTO_TEST_CASE(sigterm_finishes_and_exits_zero)
{
    // On SIGTERM the gateway stops accepting, tells its live streams it is going away (1001), lets the
    // requests in flight finish with their normal answers, and exits 0 before its grace period is over.
    const auto grace = std::chrono::seconds(30);
    test::mode_fixture f(std::map<std::string, std::string>{{"MB_SHUTDOWN_GRACE", "30s"}});
    const auto token = f.user("draining").second;
    auto home = f.create_home(token, "Drain house");
    test::ws_client header_stream(f.gw.port, "/v1/events", {{"Authorization", "Bearer " + token}});
    test::ws_client query_stream(f.gw.port, "/v1/events?access_token=" + token);
    live::until_ready(header_stream);
    live::until_ready(query_stream);

    // MODE answers the next read of the home and of its devices 3 s late.
    const auto home_path = "/homes/" + std::to_string(home);
    json::object slow_home;
    slow_home["path"] = home_path;
    slow_home["method"] = "GET";
    slow_home["delayMs"] = 3000;
    slow_home["count"] = 1;
    json::object slow_devices = slow_home;
    slow_devices["path"] = "/devices";
    f.add_fault(slow_home);
    f.add_fault(slow_devices);
    auto get_home = std::async(std::launch::async, [&] { return f.call(http::verb::get, "/v1" + home_path, token); });
    auto get_devices =
        std::async(std::launch::async, [&] { return f.call(http::verb::get, "/v1" + home_path + "/devices", token); });
    // Both are in flight: a fault with a count is used up when its request reaches the emulator.
    BOOST_REQUIRE_MESSAGE(test::eventually([&] { return f.sim_call(http::verb::get, "/_sim/faults").json().as_array().empty(); },
                                           std::chrono::seconds(15)),
                          "the slow requests did not reach MODE: " << f.sim_call(http::verb::get, "/_sim/faults"));

    const auto stopped_at = std::chrono::steady_clock::now();
    f.gw.proc->terminate();
    BOOST_TEST(header_stream.wait_closed(std::chrono::seconds(10)));
    BOOST_TEST(header_stream.closed_with().value_or(0) == 1001);
    BOOST_TEST(query_stream.wait_closed(std::chrono::seconds(10)));
    BOOST_TEST(query_stream.closed_with().value_or(0) == 1001);
    BOOST_TEST(refuses_connections(f.gw.port, std::chrono::seconds(10)), "new connections are still accepted");

    auto one_home = get_home.get();
    BOOST_TEST_REQUIRE(one_home.status == 200U, one_home);
    BOOST_TEST(one_home.json().at("id").as_int64() == home);
    BOOST_TEST(one_home.json().at("name").as_string() == "Drain house");
    auto devices = get_devices.get();
    BOOST_TEST_REQUIRE(devices.status == 200U, devices);
    BOOST_TEST(devices.json().is_array());
    BOOST_TEST(devices.json().as_array().empty(), devices); // the home has no devices

    auto code = f.gw.proc->wait(grace + std::chrono::seconds(15));
    auto took = std::chrono::steady_clock::now() - stopped_at;
    BOOST_REQUIRE_MESSAGE(code.has_value(), "the gateway did not exit:\n" << f.gw.proc->output());
    BOOST_TEST(*code == 0, f.gw.proc->output());
    BOOST_TEST(took < grace, "the drain ran into the grace period");
    BOOST_TEST(f.gw.proc->output().find("closing_busy_connections") == std::string::npos,
               "requests in flight were cut off:\n" << f.gw.proc->output());
    BOOST_TEST(f.gw.proc->output().find("service.stopped") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ingest_sigterm_finishes_the_webhooks_in_flight_and_exits_zero)
{
    const auto grace = std::chrono::seconds(30);
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url(), {{"MB_DB_TIMEOUT", "30s"}, {"MB_SHUTDOWN_GRACE", "30s"}});
    // Another transaction holds the events table: the webhook's insert waits for it.
    pqxx::connection holder(db.admin_url());
    pqxx::work lock(holder);
    lock.exec("LOCK TABLE events IN EXCLUSIVE MODE");

    json::object event;
    event["homeId"] = 7;
    event["eventType"] = "reading";
    event["eventData"] = json::object{{"n", 1}};
    auto body = json::serialize(event);
    auto post = std::async(std::launch::async, [&] {
        return test::post_signed_event(ingest, body, test::webhook_key, test::webhook_url, {}, std::chrono::seconds(60));
    });
    pqxx::connection watcher(db.admin_url());
    auto insert_waits = [&] {
        pqxx::nontransaction tx(watcher);
        return tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND "
                               "application_name = 'modebridge-ingest' AND wait_event_type = 'Lock'",
                               db.name())[0]
                   .as<int>() > 0;
    };
    BOOST_REQUIRE_MESSAGE(test::eventually(insert_waits, std::chrono::seconds(15)), "the webhook never reached the store");

    const auto stopped_at = std::chrono::steady_clock::now();
    ingest.proc->terminate();
    BOOST_TEST(refuses_connections(ingest.port, std::chrono::seconds(10)), "new connections are still accepted");
    // It waits for the webhook it has not answered yet.
    BOOST_TEST(ingest.proc->running());
    BOOST_TEST(insert_waits());

    lock.abort();
    auto answer = post.get();
    BOOST_TEST(answer.status == 204U, answer);
    auto code = ingest.proc->wait(grace + std::chrono::seconds(15));
    auto took = std::chrono::steady_clock::now() - stopped_at;
    BOOST_REQUIRE_MESSAGE(code.has_value(), "webhook-ingest did not exit:\n" << ingest.proc->output());
    BOOST_TEST(*code == 0, ingest.proc->output());
    BOOST_TEST(took < grace, "the drain ran into the grace period");
    BOOST_TEST(ingest.proc->output().find("closing_busy_connections") == std::string::npos, ingest.proc->output());
    // Acknowledged means stored.
    pqxx::connection c(db.admin_url());
    pqxx::read_transaction tx(c);
    BOOST_TEST(tx.exec1("SELECT count(*) FROM events")[0].as<int>() == 1);
}

BOOST_AUTO_TEST_CASE(sigterm_turns_readyz_503_first_and_serves_everything_through_the_delay)
{
    // MB_SHUTDOWN_DELAY: after SIGTERM, /readyz says so at once while the service still takes new
    // connections and work, so that a load balancer stops sending before the service stops accepting.
    const auto delay = std::chrono::seconds(3);
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url(), {{"MB_SHUTDOWN_DELAY", "3s"}});
    BOOST_REQUIRE_EQUAL(test::http_call(ingest.port, http::verb::get, "/readyz").status, 200U);

    const auto stopped_at = std::chrono::steady_clock::now();
    ingest.proc->terminate();
    test::http_result ready;
    BOOST_TEST_REQUIRE(test::eventually([&] {
        ready = test::http_call(ingest.port, http::verb::get, "/readyz");
        return ready.status == 503U;
    }, std::chrono::seconds(2)), ready);
    BOOST_TEST(ready.json().at("code").as_string() == "SHUTTING_DOWN", ready);
    BOOST_TEST(ready.headers["Retry-After"] == "5");

    // Still a working service, on new connections: a webhook is taken and stored.
    json::object event;
    event["homeId"] = 9;
    event["eventType"] = "reading";
    event["eventData"] = json::object{{"n", 2}};
    auto answer = test::post_signed_event(ingest, json::serialize(event));
    BOOST_TEST(answer.status == 204U, answer);
    bool within_delay = std::chrono::steady_clock::now() - stopped_at < delay;
    BOOST_TEST(within_delay, "the delay was over before the webhook");

    auto code = ingest.proc->wait(std::chrono::seconds(30));
    auto took = std::chrono::steady_clock::now() - stopped_at;
    BOOST_REQUIRE_MESSAGE(code.has_value(), "webhook-ingest did not exit:\n" << ingest.proc->output());
    BOOST_TEST(*code == 0, ingest.proc->output());
    bool waited = took >= delay;
    BOOST_TEST(waited, "it stopped before the delay was over");
    pqxx::connection c(db.admin_url());
    pqxx::read_transaction tx(c);
    BOOST_TEST(tx.exec1("SELECT count(*) FROM events")[0].as<int>() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
