// The /_sim/ control surface over real HTTP: fault injection, users, stats, reset.

#include "sim_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <thread>

using namespace modesim_test;
using http::verb;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

void add_fault(running_sim& sim, const json::object& f)
{
    auto r = sim.call(verb::post, "/_sim/faults", f, "");
    BOOST_REQUIRE_MESSAGE(r.status == 204, r);
}

json::object new_user_body()
{
    return {{"projectId", project_id}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_http_sim)

BOOST_AUTO_TEST_CASE(fault_with_status_and_count)
{
    running_sim sim;
    add_fault(sim, {{"path", "/users"}, {"method", "POST"}, {"status", 503}, {"count", 2}});
    auto first = sim.call(verb::post, "/users", new_user_body(), byou_key);
    BOOST_TEST(error_of(first) == "503 SIMULATED_FAULT");
    BOOST_TEST(first.header("Content-Type") == "application/json; charset=utf-8");
    BOOST_TEST(first.header("Access-Control-Allow-Origin") == "*");
    // Other methods on the path are untouched and do not use up the count.
    BOOST_TEST(error_of(sim.call(verb::get, "/users/1", "", byou_key)) == "404 USER_NOT_FOUND");
    BOOST_TEST(error_of(sim.call(verb::post, "/users", new_user_body(), byou_key)) == "503 SIMULATED_FAULT");
    BOOST_TEST(sim.call(verb::post, "/users", new_user_body(), byou_key).status == 201U);
    BOOST_TEST(sim.sim().model().counts().users == 1U); // failed requests changed nothing
    BOOST_TEST(sim.call(verb::get, "/_sim/faults").json().as_array().empty());
}

BOOST_AUTO_TEST_CASE(unlimited_prefix_fault_until_cleared)
{
    running_sim sim;
    std::string key = sim.user_key(sim.create_user());
    add_fault(sim, {{"path", "/homes*"}, {"status", 500}, {"reason", "DATABASE_ERROR"}});
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(error_of(sim.call(verb::get, "/homes", "", key)) == "500 DATABASE_ERROR");
    BOOST_TEST(error_of(sim.call(verb::get, "/homes/5/members", "", key)) == "500 DATABASE_ERROR");
    BOOST_TEST(sim.call(verb::get, "/auth", "", key).status == 200U);
    BOOST_TEST(sim.call(verb::delete_, "/_sim/faults").status == 204U);
    BOOST_TEST(sim.call(verb::get, "/homes", "", key).status == 200U);
}

BOOST_AUTO_TEST_CASE(faults_never_touch_the_control_surface)
{
    running_sim sim;
    add_fault(sim, {{"status", 401}, {"reason", "UNAUTHENTICATED_CLIENT"}});
    BOOST_TEST(error_of(sim.call(verb::get, "/auth", "", byou_key)) == "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(sim.call(verb::get, "/_sim/stats").status == 200U);
    BOOST_TEST(sim.call(verb::get, "/healthz").status == 200U);
    auto listed = sim.call(verb::get, "/_sim/faults").json().as_array();
    BOOST_REQUIRE(listed.size() == 1U);
    BOOST_TEST(listed[0].at("status").as_int64() == 401);
}

BOOST_AUTO_TEST_CASE(invalid_faults_are_refused)
{
    running_sim sim;
    BOOST_TEST(error_of(sim.call(verb::post, "/_sim/faults", json::object{}, "")) == "403 INVALID_INPUT");
    BOOST_TEST(error_of(sim.call(verb::post, "/_sim/faults", json::object{{"status", 200}}, "")) == "403 INVALID_INPUT");
    BOOST_TEST(error_of(sim.call(verb::post, "/_sim/faults", std::string("[1]"))) == "403 INVALID_INPUT");
    BOOST_TEST(sim.call(verb::get, "/_sim/faults").json().as_array().empty());
}

BOOST_AUTO_TEST_CASE(a_delay_does_not_block_other_requests)
{
    // One I/O thread: were the delay a blocking sleep, the second request could not be answered before
    // the first.
    running_sim sim(1);
    add_fault(sim, {{"path", "/auth"}, {"delayMs", 3000}, {"count", 1}});
    auto delayed = std::async(std::launch::async, [&] { return sim.call(verb::get, "/auth", "", byou_key); });
    // Wait (bounded) until the delayed request has taken the fault, i.e. is waiting on its timer.
    bool taken = false;
    for (int i = 0; i < 200 && !taken; ++i) {
        taken = sim.call(verb::get, "/_sim/faults").json().as_array().empty();
        if (!taken)
            std::this_thread::sleep_for(10ms);
    }
    BOOST_REQUIRE(taken);
    auto quick = sim.call(verb::get, "/auth", "", byou_key);
    BOOST_TEST(quick.status == 200U);
    BOOST_TEST((delayed.wait_for(0s) == std::future_status::timeout)); // still waiting out its delay
    auto slow = delayed.get(); // http_call bounds it (10 s)
    BOOST_TEST(slow.status == 200U);
    BOOST_TEST(slow.json().at("type").as_string() == "project key");
}

BOOST_AUTO_TEST_CASE(delay_then_status)
{
    running_sim sim;
    add_fault(sim, {{"path", "/auth"}, {"delayMs", 50}, {"status", 504}, {"count", 1}});
    BOOST_TEST(error_of(sim.call(verb::get, "/auth", "", byou_key)) == "504 SIMULATED_FAULT");
    BOOST_TEST(sim.call(verb::get, "/auth", "", byou_key).status == 200U);
}

BOOST_AUTO_TEST_CASE(users_stats_and_reset)
{
    running_sim sim;
    auto ann = sim.call(verb::post, "/users", json::object{{"projectId", project_id}, {"externalKey", "a-1"}}, byou_key);
    BOOST_REQUIRE(ann.status == 201U);
    sim.create_user("other");
    std::string key = sim.user_key(ann.json().at("id").as_int64());
    auto all = sim.call(verb::get, "/_sim/users").json().as_array();
    BOOST_TEST(all.size() == 2U);
    auto one = sim.call(verb::get, "/_sim/users?externalKey=a-1").json().as_array();
    BOOST_REQUIRE(one.size() == 1U);
    BOOST_TEST(one[0].at("id") == ann.json().at("id"));
    BOOST_TEST(sim.call(verb::get, "/_sim/users?externalKey=nope").json().as_array().empty());

    sim.provision_device();
    add_fault(sim, {{"path", "/nowhere"}, {"status", 500}});
    auto stats = sim.call(verb::get, "/_sim/stats").json();
    BOOST_TEST(stats.at("users").as_int64() == 2);
    BOOST_TEST(stats.at("userKeys").as_int64() == 1);
    BOOST_TEST(stats.at("devices").as_int64() == 1);
    BOOST_TEST(stats.at("faults").as_int64() == 1);

    BOOST_TEST(sim.call(verb::post, "/_sim/reset").status == 204U);
    stats = sim.call(verb::get, "/_sim/stats").json();
    BOOST_TEST(stats.at("users").as_int64() == 0);
    BOOST_TEST(stats.at("devices").as_int64() == 0);
    BOOST_TEST(stats.at("faults").as_int64() == 0);
    BOOST_TEST(error_of(sim.call(verb::get, "/userSession", "", key)) == "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(sim.call(verb::post, "/users", new_user_body(), byou_key).status == 201U);
}

BOOST_AUTO_TEST_SUITE_END()
