#include "mode/mode_problems.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace web = common::web;
namespace mode = common::mode;

BOOST_AUTO_TEST_SUITE(mode_problems)

namespace {

unsigned status_of(const web::problem& p)
{
    return static_cast<unsigned>(p.status());
}

} // namespace

BOOST_AUTO_TEST_CASE(failures_map_to_the_contract)
{
    using mode::failure;
    auto p = gateway::to_problem(mode::error(failure::rejected, 409, "DEVICE_OFFLINE", "x"));
    BOOST_TEST(status_of(p) == 409U);
    BOOST_TEST(p.code() == "MODE_DEVICE_OFFLINE");
    p = gateway::to_problem(mode::error(failure::rejected, 403, "PERMISSION_DENIED", "x"));
    BOOST_TEST(status_of(p) == 403U);
    BOOST_TEST(p.code() == "MODE_PERMISSION_DENIED");
    p = gateway::to_problem(mode::error(failure::rejected, 404, "ERROR", "x"));
    BOOST_TEST(status_of(p) == 404U);
    // Our own credentials refused: not the user's fault, not a 401 for them.
    p = gateway::to_problem(mode::error(failure::rejected, 401, "AUTHORIZATION_REQUIRED", "x"));
    BOOST_TEST(status_of(p) == 502U);
    p = gateway::to_problem(mode::error(failure::unavailable, 0, "", "connection refused"));
    BOOST_TEST(status_of(p) == 503U);
    BOOST_TEST(p.code() == "MODE_UNAVAILABLE");
    BOOST_TEST(!p.headers().empty());
    p = gateway::to_problem(mode::error(failure::unavailable, 500, "DATABASE_ERROR", "x"));
    BOOST_TEST(status_of(p) == 502U);
    BOOST_TEST(p.code() == "MODE_UNAVAILABLE");
    p = gateway::to_problem(mode::error(failure::timeout, 0, "", "x"));
    BOOST_TEST(status_of(p) == 504U);
    BOOST_TEST(p.code() == "MODE_TIMEOUT");
    p = gateway::to_problem(mode::error(failure::outcome_unknown, 0, "", "x"));
    BOOST_TEST(status_of(p) == 502U);
    BOOST_TEST(p.code() == "MODE_OUTCOME_UNKNOWN");
    BOOST_TEST(p.headers().empty()); // no Retry-After: a retry may repeat the effect
    p = gateway::to_problem(mode::error(failure::bad_answer, 200, "", "x"));
    BOOST_TEST(status_of(p) == 502U);
    // The detail never carries what MODE said beyond its reason.
    BOOST_TEST(p.detail().find("x") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
