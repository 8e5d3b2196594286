#include "common/web/json_body.hpp"

#include "common/web/problem.hpp"
#include "support/problem_of.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

using namespace common::aliases;
namespace web = common::web;

namespace {

web::request make_request(std::string body, std::optional<std::string> content_type = "application/json")
{
    web::request req{http::verb::post, "/x", 11};
    if (content_type)
        req.set(http::field::content_type, *content_type);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

json::object object_of(const std::string& text)
{
    return web::parse_json_object(make_request(text));
}

/** The problem is a 400 INVALID_REQUEST whose detail names `member`. */
void expect_invalid_member(const web::problem& p, const std::string& member)
{
    BOOST_TEST(static_cast<unsigned>(p.status()) == 400U);
    BOOST_TEST(p.code() == "INVALID_REQUEST");
    BOOST_TEST(p.detail().find(member) != std::string::npos, "detail '" << p.detail() << "' names " << member);
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_body)

BOOST_AUTO_TEST_CASE(malformed_json_is_400_malformed_json)
{
    for (std::string body : {"{", "not json", "", "{\"a\":}", "{\"a\":1,}", "{'a':1}", "{\"a\":1} trailing"}) {
        BOOST_TEST_CONTEXT("body '" << body << "'")
        {
            auto p = test::problem_of([&] { (void)web::parse_json_object(make_request(body)); });
            BOOST_TEST(static_cast<unsigned>(p.status()) == 400U);
            BOOST_TEST(p.code() == "MALFORMED_JSON");
        }
    }
}

BOOST_AUTO_TEST_CASE(non_object_is_400_invalid_request)
{
    for (std::string body : {"[1,2]", "42", "\"text\"", "null", "true"}) {
        BOOST_TEST_CONTEXT("body '" << body << "'")
        {
            auto p = test::problem_of([&] { (void)web::parse_json_object(make_request(body)); });
            BOOST_TEST(static_cast<unsigned>(p.status()) == 400U);
            BOOST_TEST(p.code() == "INVALID_REQUEST");
        }
    }
}

BOOST_AUTO_TEST_CASE(members_are_read_and_unknown_ones_ignored)
{
    auto o = object_of(R"({"email":"a@b.c","homeId":173,"meta":{"k":1},"unknown":[1,{"x":null}],"zz":false})");
    BOOST_TEST(web::require_string(o, "email") == "a@b.c");
    BOOST_TEST(web::require_int(o, "homeId") == 173);
    BOOST_TEST(web::require_object(o, "meta").at("k").as_int64() == 1);
    BOOST_TEST(!web::optional_string(o, "name").has_value());
    BOOST_TEST(!web::optional_int(o, "limit").has_value());
    BOOST_TEST(web::optional_string(o, "email").value() == "a@b.c");
    BOOST_TEST(web::optional_int(o, "homeId").value() == 173);
}

BOOST_AUTO_TEST_CASE(wrong_member_types_are_400_naming_the_member)
{
    auto o = object_of(R"({"s":1,"i":"12","f":1.5,"b":true,"arr":[1],"obj":{},"str":"x"})");
    expect_invalid_member(test::problem_of([&] { (void)web::require_string(o, "s"); }), "s");
    expect_invalid_member(test::problem_of([&] { (void)web::optional_string(o, "arr"); }), "arr");
    expect_invalid_member(test::problem_of([&] { (void)web::require_int(o, "i"); }), "i");
    expect_invalid_member(test::problem_of([&] { (void)web::require_int(o, "f"); }), "f");
    expect_invalid_member(test::problem_of([&] { (void)web::optional_int(o, "b"); }), "b");
    expect_invalid_member(test::problem_of([&] { (void)web::require_object(o, "arr"); }), "arr");
    expect_invalid_member(test::problem_of([&] { (void)web::require_object(o, "str"); }), "str");
}

BOOST_AUTO_TEST_CASE(missing_members_are_400_naming_the_member)
{
    auto o = object_of(R"({"other":1})");
    expect_invalid_member(test::problem_of([&] { (void)web::require_string(o, "password"); }), "password");
    expect_invalid_member(test::problem_of([&] { (void)web::require_int(o, "homeId"); }), "homeId");
    expect_invalid_member(test::problem_of([&] { (void)web::require_object(o, "parameters"); }), "parameters");
}

BOOST_AUTO_TEST_CASE(null_is_absent_for_optional_getters_and_missing_for_required_ones)
{
    auto o = object_of(R"({"name":null,"limit":null,"parameters":null})");
    BOOST_TEST(!web::optional_string(o, "name").has_value());
    BOOST_TEST(!web::optional_int(o, "limit").has_value());
    expect_invalid_member(test::problem_of([&] { (void)web::require_string(o, "name"); }), "name");
    expect_invalid_member(test::problem_of([&] { (void)web::require_int(o, "limit"); }), "limit");
    expect_invalid_member(test::problem_of([&] { (void)web::require_object(o, "parameters"); }), "parameters");
}

BOOST_AUTO_TEST_CASE(integers_in_int64_range_only)
{
    auto o = object_of(R"({"zero":0,"neg":-7,"max":9223372036854775807,"min":-9223372036854775808,)"
                       R"("over":9223372036854775808,"huge":18446744073709551615,"exp":1e3})");
    BOOST_TEST(web::require_int(o, "zero") == 0);
    BOOST_TEST(web::require_int(o, "neg") == -7);
    BOOST_TEST(web::require_int(o, "max") == std::numeric_limits<std::int64_t>::max());
    BOOST_TEST(web::require_int(o, "min") == std::numeric_limits<std::int64_t>::min());
    // A uint64 above INT64_MAX does not fit: rejected, never wrapped to a negative number.
    BOOST_TEST(o.at("over").is_uint64());
    expect_invalid_member(test::problem_of([&] { (void)web::require_int(o, "over"); }), "over");
    expect_invalid_member(test::problem_of([&] { (void)web::optional_int(o, "huge"); }), "huge");
    expect_invalid_member(test::problem_of([&] { (void)web::require_int(o, "exp"); }), "exp");
}

BOOST_AUTO_TEST_CASE(non_json_content_type_is_415)
{
    for (std::string ct :
         {"text/plain", "application/x-www-form-urlencoded", "application/jsonp", "multipart/form-data", "json"}) {
        BOOST_TEST_CONTEXT("content type '" << ct << "'")
        {
            auto p = test::problem_of([&] { (void)web::parse_json_object(make_request("{}", ct)); });
            BOOST_TEST(static_cast<unsigned>(p.status()) == 415U);
            BOOST_TEST(p.code() == "UNSUPPORTED_MEDIA_TYPE");
        }
    }
}

BOOST_AUTO_TEST_CASE(json_content_types_are_accepted)
{
    for (std::string ct : {"application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
                           "Application/JSON", "application/problem+json", "application/merge-patch+json"}) {
        BOOST_TEST_CONTEXT("content type '" << ct << "'")
        {
            auto o = web::parse_json_object(make_request(R"({"a":"b"})", ct));
            BOOST_TEST(web::require_string(o, "a") == "b");
        }
    }
    // No Content-Type at all: the body is still read as JSON.
    auto o = web::parse_json_object(make_request(R"({"a":"b"})", std::nullopt));
    BOOST_TEST(web::require_string(o, "a") == "b");
}

BOOST_AUTO_TEST_CASE(json_response_and_empty_response)
{
    web::request req{http::verb::get, "/x", 11};
    auto res = web::json_response(req, http::status::created, json::object{{"id", 5}, {"name", "h\xc3\xa9"}});
    BOOST_TEST(res.result_int() == 201U);
    BOOST_TEST(res[http::field::content_type] == "application/json");
    BOOST_TEST(res[http::field::content_length] == std::to_string(res.body().size()));
    BOOST_TEST(res.keep_alive());
    auto v = json::parse(res.body());
    BOOST_TEST(v.at("id").as_int64() == 5);
    BOOST_TEST(v.at("name").as_string() == "h\xc3\xa9");

    web::request closing{http::verb::delete_, "/x", 11};
    closing.keep_alive(false);
    auto empty = web::empty_response(closing, http::status::no_content);
    BOOST_TEST(empty.result_int() == 204U);
    BOOST_TEST(empty.body().empty());
    BOOST_TEST(!empty.keep_alive());
    BOOST_TEST(empty[http::field::transfer_encoding].empty());
}

BOOST_AUTO_TEST_SUITE_END()
