// Users and auth over real HTTP against an in-process emulator.

#include "sim_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>

using namespace modesim_test;
using http::verb;
namespace json = boost::json;

namespace {

const test::header_list form{{"Content-Type", "application/x-www-form-urlencoded"}};

bool is_rfc3339_ms(const json::value& v)
{
    static const std::regex re(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
    return v.is_string() && std::regex_match(std::string(v.as_string()), re);
}

std::string users_body(std::int64_t project)
{
    return json::serialize(json::object{{"projectId", project}});
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_http_users)

BOOST_AUTO_TEST_CASE(create_user_answers_201_with_the_user_and_mode_headers)
{
    running_sim sim;
    auto r = sim.call(verb::post, "/users",
                      json::object{{"projectId", project_id}, {"name", "Ann"}, {"externalKey", "acct-1"}}, byou_key);
    BOOST_REQUIRE_MESSAGE(r.status == 201, r);
    auto u = r.json().as_object();
    BOOST_TEST(r.header("Location") == "/users/" + std::to_string(u.at("id").as_int64()));
    BOOST_TEST(r.header("Content-Type") == "application/json; charset=utf-8");
    BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(r.header("Access-Control-Allow-Credentials") == "false");
    BOOST_TEST(r.header("Access-Control-Expose-Headers") == "X-Xsrf-Guard");
    BOOST_TEST(u.at("projectId").as_int64() == project_id);
    BOOST_TEST(u.at("name").as_string() == "Ann");
    BOOST_TEST(u.at("externalKey").as_string() == "acct-1");
    BOOST_TEST(u.at("verified").as_bool());
    BOOST_TEST(is_rfc3339_ms(u.at("creationTime")));
    // The bare BYOU body of MODE's guide is enough.
    BOOST_TEST(sim.call(verb::post, "/users", users_body(project_id), byou_key).status == 201U);
}

BOOST_AUTO_TEST_CASE(create_user_auth_errors)
{
    running_sim sim;
    auto missing = sim.call(verb::post, "/users", users_body(project_id));
    BOOST_TEST(error_of(missing) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(missing.header("Content-Type") == "application/json; charset=utf-8");
    BOOST_TEST(missing.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(error_of(sim.call(verb::post, "/users", users_body(project_id), "", {{"Authorization", "Bearer x"}})) ==
               "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(error_of(sim.call(verb::post, "/users", users_body(project_id), "not-a-key")) ==
               "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(error_of(sim.call(verb::post, "/users", users_body(project_id), plain_key)) == "403 PERMISSION_DENIED");
    std::string key = sim.user_key(sim.create_user());
    BOOST_TEST(error_of(sim.call(verb::post, "/users", users_body(project_id), key)) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of(sim.call(verb::post, "/users", users_body(project_id + 1), byou_key)) == "403 PERMISSION_DENIED");
}

BOOST_AUTO_TEST_CASE(create_user_input_errors)
{
    running_sim sim;
    auto missing = sim.call(verb::post, "/users", std::string("{}"), byou_key);
    BOOST_TEST(error_of(missing) == "403 INVALID_INPUT");
    BOOST_TEST(missing.json().at("data").at("projectId").as_string() == "REQUIRED");
    BOOST_TEST(error_of(sim.call(verb::post, "/users", std::string("{not json"), byou_key)) == "403 INVALID_INPUT");
    BOOST_TEST(error_of(sim.call(verb::post, "/users", std::string(R"({"projectId":"7"})"), byou_key)) ==
               "403 INVALID_INPUT");
    BOOST_TEST(sim.sim().model().counts().users == 0U);
}

BOOST_AUTO_TEST_CASE(auth_user_issues_a_working_key_from_a_form_body)
{
    running_sim sim;
    auto id = sim.create_user("Ann");
    auto r = sim.call(verb::post, "/auth/user",
                      "projectId=" + std::to_string(project_id) + "&userId=" + std::to_string(id) + "&appId=my+app%21",
                      byou_key, form);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r);
    auto k = r.json().as_object();
    BOOST_TEST(k.at("userId").as_int64() == id);
    BOOST_TEST(k.at("projectId").as_int64() == project_id);
    BOOST_TEST(is_rfc3339_ms(k.at("creationTime")));
    std::string token(k.at("token").as_string());
    BOOST_TEST(!token.empty());

    auto who = sim.call(verb::get, "/auth", "", token);
    BOOST_REQUIRE_MESSAGE(who.status == 200, who);
    BOOST_TEST(who.json().at("type").as_string() == "user");
    BOOST_TEST(who.json().at("userId").as_int64() == id);
    auto session = sim.call(verb::get, "/userSession", "", token);
    BOOST_REQUIRE_MESSAGE(session.status == 200, session);
    BOOST_TEST(session.json().at("userId").as_int64() == id);
    BOOST_TEST(session.json().at("appId").as_string() == "my app!");
    BOOST_TEST(session.json().at("projectId").as_int64() == project_id);
    BOOST_TEST(is_rfc3339_ms(session.json().at("creationTime")));
    // A form Content-Type with a charset parameter is still a form.
    BOOST_TEST(sim.call(verb::post, "/auth/user", "projectId=7&userId=" + std::to_string(id), byou_key,
                        {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}})
                   .status == 200U);
}

BOOST_AUTO_TEST_CASE(auth_user_errors)
{
    running_sim sim;
    auto id = sim.create_user();
    std::string body = "projectId=7&userId=" + std::to_string(id);
    // The same fields as JSON are not read: MODE takes a form here.
    auto as_json = sim.call(verb::post, "/auth/user", json::object{{"projectId", 7}, {"userId", id}}, byou_key);
    BOOST_TEST(error_of(as_json) == "403 INVALID_INPUT");
    BOOST_TEST(as_json.json().at("data").at("projectId").as_string() == "REQUIRED");
    BOOST_TEST(error_of(sim.call(verb::post, "/auth/user", std::string("projectId=7"), byou_key, form)) ==
               "403 INVALID_INPUT");
    BOOST_TEST(error_of(sim.call(verb::post, "/auth/user", std::string("projectId=7&userId=abc"), byou_key, form)) ==
               "403 INVALID_INPUT");
    BOOST_TEST(error_of(sim.call(verb::post, "/auth/user", std::string("projectId=7&userId=424242"), byou_key, form)) ==
               "404 USER_NOT_FOUND");
    BOOST_TEST(error_of(sim.call(verb::post, "/auth/user", "projectId=8&userId=" + std::to_string(id), byou_key, form)) ==
               "403 PERMISSION_DENIED");
    BOOST_TEST(error_of(sim.call(verb::post, "/auth/user", body, "", form)) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(error_of(sim.call(verb::post, "/auth/user", body, "bogus", form)) == "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(error_of(sim.call(verb::post, "/auth/user", body, plain_key, form)) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of(sim.call(verb::post, "/auth/user", body, sim.user_key(id), form)) == "403 INSUFFICIENT_AUTH");
}

BOOST_AUTO_TEST_CASE(get_user_self_or_project_only)
{
    running_sim sim;
    auto ann = sim.create_user("Ann");
    auto bob = sim.create_user("Bob");
    std::string ann_key = sim.user_key(ann);
    auto self = sim.call(verb::get, "/users/" + std::to_string(ann), "", ann_key);
    BOOST_REQUIRE_MESSAGE(self.status == 200, self);
    BOOST_TEST(self.json().at("name").as_string() == "Ann");
    BOOST_TEST(sim.call(verb::get, "/users/" + std::to_string(bob), "", plain_key).status == 200U);
    BOOST_TEST(error_of(sim.call(verb::get, "/users/" + std::to_string(bob), "", ann_key)) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of(sim.call(verb::get, "/users/999999", "", byou_key)) == "404 USER_NOT_FOUND");
    BOOST_TEST(error_of(sim.call(verb::get, "/users/abc", "", byou_key)) == "404 USER_NOT_FOUND");
    BOOST_TEST(error_of(sim.call(verb::get, "/users/" + std::to_string(ann))) == "401 AUTHORIZATION_REQUIRED");
}

BOOST_AUTO_TEST_CASE(delete_user_by_self_or_project)
{
    running_sim sim;
    auto ann = sim.create_user();
    auto bob = sim.create_user();
    std::string ann_key = sim.user_key(ann);
    BOOST_TEST(error_of(sim.call(verb::delete_, "/users/" + std::to_string(bob), "", ann_key)) == "403 PERMISSION_DENIED");
    auto gone = sim.call(verb::delete_, "/users/" + std::to_string(ann), "", ann_key);
    BOOST_TEST(gone.status == 204U);
    BOOST_TEST(gone.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(error_of(sim.call(verb::get, "/userSession", "", ann_key)) == "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(sim.call(verb::delete_, "/users/" + std::to_string(bob), "", byou_key).status == 204U);
    BOOST_TEST(error_of(sim.call(verb::get, "/users/" + std::to_string(bob), "", byou_key)) == "404 USER_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(get_auth_answers_200_for_any_key)
{
    running_sim sim;
    auto nobody = sim.call(verb::get, "/auth");
    BOOST_REQUIRE_MESSAGE(nobody.status == 200, nobody);
    BOOST_TEST(json::serialize(nobody.json()) == R"({"type":"nobody"})");
    BOOST_TEST(sim.call(verb::get, "/auth", "", "garbage").json().at("type").as_string() == "nobody");
    auto project = sim.call(verb::get, "/auth", "", byou_key).json();
    BOOST_TEST(project.at("type").as_string() == "project key");
    BOOST_TEST(project.at("projectId").as_int64() == project_id);
    BOOST_TEST(!project.at("projectKeyName").as_string().empty());
    auto device = sim.provision_device();
    auto dev = sim.call(verb::get, "/auth", "", std::string(device.at("apiKey").as_string())).json();
    BOOST_TEST(dev.at("type").as_string() == "device");
    BOOST_TEST(dev.at("deviceId").as_int64() == device.at("id").as_int64());
}

BOOST_AUTO_TEST_CASE(user_session_delete_invalidates_that_key_only)
{
    running_sim sim;
    auto ann = sim.create_user();
    std::string first = sim.user_key(ann);
    std::string second = sim.user_key(ann);
    BOOST_TEST(error_of(sim.call(verb::get, "/userSession", "", byou_key)) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of(sim.call(verb::get, "/userSession")) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(sim.call(verb::delete_, "/userSession", "", first).status == 204U);
    BOOST_TEST(error_of(sim.call(verb::get, "/userSession", "", first)) == "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(sim.call(verb::get, "/auth", "", first).json().at("type").as_string() == "nobody");
    BOOST_TEST(sim.call(verb::get, "/userSession", "", second).status == 200U);
}

BOOST_AUTO_TEST_CASE(unknown_routes_answer_in_mode_shape)
{
    running_sim sim;
    auto nf = sim.call(verb::get, "/no/such/thing", "", byou_key);
    BOOST_TEST(error_of(nf) == "404 NOT_FOUND");
    BOOST_TEST(nf.header("Content-Type") == "application/json; charset=utf-8");
    BOOST_TEST(nf.header("Access-Control-Allow-Origin") == "*");
    auto na = sim.call(verb::put, "/users", "", byou_key);
    BOOST_TEST(error_of(na) == "405 METHOD_NOT_ALLOWED");
    BOOST_TEST(na.header("Allow") == "POST");
}

BOOST_AUTO_TEST_SUITE_END()
