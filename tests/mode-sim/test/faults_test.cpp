#include "faults.hpp"

#include "sim_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace modesim;
using modesim_test::error_of;
using namespace std::chrono_literals;

namespace {

fault make(std::string path, std::string method, std::optional<std::uint64_t> count = std::nullopt)
{
    fault f;
    f.path = std::move(path);
    f.method = std::move(method);
    f.status = 503;
    f.count = count;
    return f;
}

boost::json::object obj(std::string_view text)
{
    return boost::json::parse(text).as_object();
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_faults)

BOOST_AUTO_TEST_CASE(matching_by_path_and_method)
{
    BOOST_TEST(fault_matches(make("", ""), "GET", "/anything"));
    BOOST_TEST(fault_matches(make("/users", ""), "POST", "/users"));
    BOOST_TEST(!fault_matches(make("/users", ""), "POST", "/users/1"));
    BOOST_TEST(fault_matches(make("/users*", ""), "GET", "/users/1"));
    BOOST_TEST(fault_matches(make("/homes/*", ""), "GET", "/homes/5/members"));
    BOOST_TEST(!fault_matches(make("/homes/*", ""), "GET", "/homes"));
    BOOST_TEST(fault_matches(make("/users", "POST"), "POST", "/users"));
    BOOST_TEST(!fault_matches(make("/users", "POST"), "GET", "/users"));
}

BOOST_AUTO_TEST_CASE(control_paths_are_exempt)
{
    BOOST_TEST(is_control_path("/_sim/faults"));
    BOOST_TEST(is_control_path("/_sim/devices/3/commands"));
    BOOST_TEST(is_control_path("/healthz"));
    BOOST_TEST(!is_control_path("/users"));
    BOOST_TEST(!is_control_path("/_simulated"));
}

BOOST_AUTO_TEST_CASE(count_is_used_up_and_first_match_wins)
{
    fault_table t;
    t.add(make("/users", "POST", 2));
    fault later = make("", "");
    later.status = 500;
    later.reason = "LATER";
    t.add(later);
    auto a = t.take("POST", "/users");
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST((a->status == std::optional<unsigned>(503)));
    BOOST_TEST(a->reason == "SIMULATED_FAULT");
    BOOST_TEST((t.take("POST", "/users")->status == std::optional<unsigned>(503)));
    BOOST_TEST(t.list().size() == 1U); // used up: removed
    auto b = t.take("POST", "/users");
    BOOST_REQUIRE(b.has_value());
    BOOST_TEST(b->reason == "LATER");
    // No count: it applies for ever.
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(t.take("GET", "/x").has_value());
    t.clear();
    BOOST_TEST(!t.take("GET", "/x").has_value());
}

BOOST_AUTO_TEST_CASE(parsing_validates_the_fault)
{
    fault f = parse_fault(obj(R"({"path":"/users","method":"post","status":503,"count":2,"delayMs":10})"));
    BOOST_TEST(f.path == "/users");
    BOOST_TEST(f.method == "POST");
    BOOST_TEST((f.status == std::optional<unsigned>(503)));
    BOOST_TEST((f.count == std::optional<std::uint64_t>(2)));
    BOOST_TEST(f.delay.count() == 10);
    BOOST_TEST((parse_fault(obj(R"({"delayMs":500})")).status == std::nullopt));
    BOOST_TEST(error_of([] { parse_fault(obj("{}")); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { parse_fault(obj(R"({"status":200})")); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { parse_fault(obj(R"({"status":503,"count":0})")); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { parse_fault(obj(R"({"status":503,"path":"users"})")); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { parse_fault(obj(R"({"delayMs":-1})")); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { parse_fault(obj(R"({"status":"503"})")); }) == "403 INVALID_INPUT");
}

BOOST_AUTO_TEST_SUITE_END()
