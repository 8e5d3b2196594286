// Dependencies that go away and come back. These stop parts of the shared test stack, so ctest runs
// this suite alone.
#include "support/account_flow.hpp"
#include "support/deployment.hpp"
#include "support/stack.hpp"
#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(outages)

namespace {

// Brings a stopped part back even when the test fails half-way.
struct restart_guard
{
    std::string part;
    ~restart_guard()
    {
        try {
            test::stack_ctl("start-" + part);
        } catch (const std::exception&) {
        }
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(mail_survives_an_smtp_outage)
{
    test::deployment d({.gateway_env = {{"MB_MAIL_RETRY_MIN", "500ms"}, {"MB_MAIL_RETRY_MAX", "2s"}}});
    auto& gw = d.gw();
    auto email = test::unique_email("outage");
    {
        restart_guard guard{"smtp"};
        test::stack_ctl("stop-smtp");
        // Registration neither fails nor waits for the mail server.
        test::register_account(gw, email);
        BOOST_TEST(gw.proc->wait_for_output("\"mail.retry\"", std::chrono::seconds(10)));
        BOOST_TEST(test::mails_to(email).empty());
        test::stack_ctl("start-smtp");
    }
    // Delivered once the sink is back, exactly once.
    BOOST_TEST_REQUIRE(test::wait_for_mail(email, "Confirm", std::chrono::seconds(20)).has_value());
    std::this_thread::sleep_for(std::chrono::seconds(3));
    BOOST_TEST(test::mails_to(email).size() == 1U);
    // And the link in it works.
    auto token = test::token_from_mail(email, "Confirm");
    BOOST_TEST(test::post_json(gw, "/v1/auth/verify-email", {{"token", token}}).status == 200U);
}

namespace {

test::http_result post_event(const test::running_service& ingest, std::int64_t home, int n)
{
    auto body = json::serialize(json::object{{"homeId", home}, {"eventType", "tick"}, {"eventData", {{"n", n}}}});
    return test::post_signed_event(ingest, body);
}

int count_events(const std::string& db_url, const std::string& where)
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    return tx.exec("SELECT count(*) FROM events WHERE " + where)[0][0].as<int>();
}

} // namespace

BOOST_AUTO_TEST_CASE(events_acknowledged_while_redis_is_down_are_published_in_order_when_it_returns)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url());
    const std::int64_t home = 4242;
    BOOST_TEST_REQUIRE(post_event(ingest, home, 0).status == 204U);
    {
        restart_guard guard{"redis"};
        test::stack_ctl("stop-redis");
        for (int i = 1; i <= 20; ++i)
            BOOST_TEST(post_event(ingest, home, i).status == 204U);
        BOOST_TEST(count_events(db.url(), "NOT published") >= 20);
        test::stack_ctl("start-redis");
        // A subscriber, before the ingest's reconnect backoff lets its relay publish.
        test::process::options o;
        o.argv = {"redis-cli", "-u", test::redis_url(), "--csv", "SUBSCRIBE", "mb:home:" + std::to_string(home)};
        test::process sub(std::move(o));
        BOOST_REQUIRE(sub.wait_for_output("subscribe", std::chrono::seconds(10)));
        BOOST_TEST_REQUIRE(sub.wait_for_output("\\\"n\\\":20", std::chrono::seconds(30)), sub.output());
        auto out = sub.output();
        std::size_t last = 0;
        for (int i = 1; i <= 20; ++i) {
            auto at = out.find("\\\"n\\\":" + std::to_string(i) + "}");
            BOOST_TEST(at != std::string::npos, "event " << i << " was not published");
            BOOST_TEST(at >= last, "event " << i << " was published out of order");
            last = at;
        }
    }
    for (int i = 0; i < 50 && count_events(db.url(), "NOT published") > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST(count_events(db.url(), "NOT published") == 0);
}

BOOST_AUTO_TEST_CASE(postgres_down_is_a_503_and_nothing_is_acknowledged)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url());
    BOOST_TEST_REQUIRE(post_event(ingest, 7, 0).status == 204U);
    {
        restart_guard guard{"pg"};
        test::stack_ctl("stop-pg");
        auto down = post_event(ingest, 7, 1);
        BOOST_TEST(down.status == 503U, down);
        BOOST_TEST(down.json().at("code").as_string() == "STORE_UNAVAILABLE");
        BOOST_TEST(!down.header("Retry-After").empty());
        auto ready = test::http_call(ingest.port, http::verb::get, "/readyz");
        BOOST_TEST(ready.status == 503U);
        test::stack_ctl("start-pg");
    }
    // MODE retries a 503; the retry lands once PostgreSQL is back.
    test::http_result again;
    for (int i = 0; i < 50; ++i) {
        again = post_event(ingest, 7, 1);
        if (again.status == 204U)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_TEST(again.status == 204U, again);
    BOOST_TEST(count_events(db.url(), "home_id = 7") == 2);
    BOOST_TEST(ingest.proc->running());
}

BOOST_AUTO_TEST_SUITE_END()
