#include "common/web/problem.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace common::aliases;
using common::web::make_problem_response;
namespace web = common::web;

namespace {

json::object body_of(const common::web::response& res)
{
    auto v = json::parse(res.body());
    BOOST_REQUIRE(v.is_object());
    return v.as_object();
}

std::set<std::string> keys_of(const json::object& o)
{
    std::set<std::string> out;
    for (const auto& kv : o)
        out.insert(std::string(kv.key()));
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(problem)

BOOST_AUTO_TEST_CASE(response_has_status_media_type_and_exact_members)
{
    web::problem p(http::status::conflict, "EMAIL_TAKEN", "an account with that email exists");
    auto res = make_problem_response(p, 11, true);
    BOOST_TEST(res.result_int() == 409U);
    BOOST_TEST(res.version() == 11U);
    BOOST_TEST(res[http::field::content_type] == "application/problem+json");
    BOOST_TEST(res[http::field::content_length] == std::to_string(res.body().size()));
    BOOST_TEST(res.keep_alive());

    auto body = body_of(res);
    BOOST_TEST((keys_of(body) == std::set<std::string>{"type", "title", "status", "detail", "code"}));
    BOOST_TEST(body.at("type").as_string() == "about:blank");
    BOOST_TEST(body.at("title").as_string() == "Conflict");
    BOOST_TEST(body.at("status").to_number<int>() == 409);
    BOOST_TEST(body.at("detail").as_string() == "an account with that email exists");
    BOOST_TEST(body.at("code").as_string() == "EMAIL_TAKEN");
}

BOOST_AUTO_TEST_CASE(detail_with_quotes_and_newlines_stays_valid_json)
{
    web::problem p(http::status::bad_request, "INVALID_REQUEST", "name: \"x\\y\"\nsecond line");
    auto body = body_of(make_problem_response(p, 11, true));
    BOOST_TEST(body.at("detail").as_string() == "name: \"x\\y\"\nsecond line");
}

BOOST_AUTO_TEST_CASE(keep_alive_and_version_follow_the_arguments)
{
    web::problem p(http::status::not_found, "NOT_FOUND", "no such resource");
    auto closing = make_problem_response(p, 11, false);
    BOOST_TEST(!closing.keep_alive());
    BOOST_TEST(beast::iequals(closing[http::field::connection], "close"));
    auto old = make_problem_response(p, 10, false);
    BOOST_TEST(old.version() == 10U);
    BOOST_TEST(!old.keep_alive());
}

BOOST_AUTO_TEST_CASE(extra_headers_are_sent)
{
    auto res =
        make_problem_response(common::web::service_unavailable("MODE_UNAVAILABLE", "MODE is unreachable", 7), 11, true);
    BOOST_TEST(res.result_int() == 503U);
    BOOST_TEST(res[http::field::retry_after] == "7");
    auto body = body_of(res);
    BOOST_TEST(body.at("code").as_string() == "MODE_UNAVAILABLE");
    BOOST_TEST(body.at("status").to_number<int>() == 503);
    BOOST_TEST(body.at("title").as_string() == "Service Unavailable");

    web::problem rate(http::status::too_many_requests, "RATE_LIMITED", "slow down");
    rate.with_header("Retry-After", "30").with_header("X-Extra", "1");
    auto res2 = make_problem_response(rate, 11, true);
    BOOST_TEST(res2.result_int() == 429U);
    BOOST_TEST(res2["Retry-After"] == "30");
    BOOST_TEST(res2["X-Extra"] == "1");
}

BOOST_AUTO_TEST_CASE(unauthenticated_is_401_with_bearer_challenge)
{
    auto p = common::web::unauthenticated();
    BOOST_TEST(static_cast<unsigned>(p.status()) == 401U);
    BOOST_TEST(p.code() == "UNAUTHENTICATED");
    auto res = make_problem_response(p, 11, true);
    BOOST_TEST(res.result_int() == 401U);
    BOOST_TEST(res[http::field::www_authenticate] == "Bearer");
    BOOST_TEST(res[http::field::content_type] == "application/problem+json");
    auto body = body_of(res);
    BOOST_TEST(body.at("code").as_string() == "UNAUTHENTICATED");
    BOOST_TEST(body.at("title").as_string() == "Unauthorized");
}

BOOST_AUTO_TEST_CASE(helpers_have_their_status_and_code)
{
    auto bad = common::web::bad_request("WEAK_PASSWORD", "too short");
    BOOST_TEST(static_cast<unsigned>(bad.status()) == 400U);
    BOOST_TEST(bad.code() == "WEAK_PASSWORD");
    BOOST_TEST(bad.detail() == "too short");
    BOOST_TEST(bad.headers().empty());

    auto nf = common::web::not_found();
    BOOST_TEST(static_cast<unsigned>(nf.status()) == 404U);
    BOOST_TEST(nf.code() == "NOT_FOUND");
    BOOST_TEST(!nf.detail().empty());
}

BOOST_AUTO_TEST_SUITE_END()
