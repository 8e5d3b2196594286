#include "body.hpp"

#include "sim_fixture.hpp"

#include <boost/test/unit_test.hpp>

using namespace modesim;
using modesim_test::error_of;

namespace {

common::web::request get(const std::string& target)
{
    return {http::verb::get, target, 11};
}

common::web::request post(std::string body, const std::string& content_type)
{
    common::web::request req{http::verb::post, "/auth/user", 11};
    if (!content_type.empty())
        req.set(http::field::content_type, content_type);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_body)

BOOST_AUTO_TEST_CASE(query_parameters_are_decoded)
{
    auto q = query_params(get("/homes?userId=12&limit=2&name=a+b%21"));
    BOOST_TEST(q.size() == 3U);
    BOOST_TEST(q["userId"] == "12");
    BOOST_TEST(q["limit"] == "2");
    BOOST_TEST(q["name"] == "a b!");
    BOOST_TEST(query_params(get("/homes")).empty());
    BOOST_TEST(query_params(get("/homes?x=1#frag")).at("x") == "1");
    BOOST_TEST((param_int(query_params(get("/h?n=42")), "n") == std::optional<std::int64_t>(42)));
    BOOST_TEST(error_of([] { param_int(query_params(get("/h?n=4x")), "n"); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { query_params(get("/h?n=%4")); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { query_params(get("/h?n=%zz")); }) == "403 INVALID_INPUT");
    BOOST_TEST(query_params(get("/h?flag&&k=%41")).at("flag").empty());
    BOOST_TEST(query_params(get("/h?flag&&k=%41")).at("k") == "A");
}

BOOST_AUTO_TEST_CASE(paging_defaults_and_validation)
{
    auto pg = paging_params({});
    BOOST_TEST(pg.skip == 0U);
    BOOST_TEST(pg.limit == 25U);
    pg = paging_params(query_params(get("/h?skip=3&limit=7")));
    BOOST_TEST(pg.skip == 3U);
    BOOST_TEST(pg.limit == 7U);
    BOOST_TEST(error_of([] { paging_params(query_params(get("/h?skip=-1"))); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { paging_params(query_params(get("/h?limit=0"))); }) == "403 INVALID_INPUT");
}

BOOST_AUTO_TEST_CASE(form_bodies_only_with_the_form_content_type)
{
    auto f = form_body(post("projectId=1&userId=22&appId=my+app%2Fx", "application/x-www-form-urlencoded"));
    BOOST_TEST(f["projectId"] == "1");
    BOOST_TEST(f["userId"] == "22");
    BOOST_TEST(f["appId"] == "my app/x");
    BOOST_TEST(form_body(post("projectId=1", "Application/X-WWW-Form-Urlencoded; charset=UTF-8")).size() == 1U);
    BOOST_TEST(form_body(post(R"({"projectId":1})", "application/json")).empty());
    BOOST_TEST(form_body(post("projectId=1", "")).empty());
}

BOOST_AUTO_TEST_CASE(json_bodies_and_fields)
{
    BOOST_TEST(json_body(post("", "application/json")).empty());
    BOOST_TEST(error_of([] { json_body(post("[1]", "application/json")); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([] { json_body(post("{", "application/json")); }) == "403 INVALID_INPUT");
    auto o = json_body(post(R"({"n":5,"s":"x","b":true,"o":{},"a":[],"z":null})", "application/json"));
    BOOST_TEST(req_int(o, "n") == 5);
    BOOST_TEST(req_string(o, "s") == "x");
    BOOST_TEST((opt_bool(o, "b") == std::optional<bool>(true)));
    BOOST_TEST(opt_object(o, "o").has_value());
    BOOST_TEST(!opt_string(o, "z").has_value()); // null counts as absent
    BOOST_TEST(error_of([&] { req_int(o, "s"); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([&] { req_string(o, "missing"); }) == "403 INVALID_INPUT");
    BOOST_TEST(error_of([&] { opt_object(o, "a"); }) == "403 INVALID_INPUT");
}

BOOST_AUTO_TEST_SUITE_END()
