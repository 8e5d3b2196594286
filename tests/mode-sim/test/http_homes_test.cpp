// Homes, members and the key-value store over real HTTP.

#include "sim_fixture.hpp"

#include <boost/test/unit_test.hpp>

using namespace modesim_test;
using http::verb;
namespace json = boost::json;

namespace {

std::string home_path(std::int64_t h, const std::string& rest = "")
{
    return "/homes/" + std::to_string(h) + rest;
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_http_homes)

BOOST_FIXTURE_TEST_CASE(create_and_list_homes, household)
{
    auto r = sim.call(verb::post, "/homes", json::object{{"name", "Cabin"}}, ann_key);
    BOOST_REQUIRE_MESSAGE(r.status == 201, r);
    auto h = r.json().as_object();
    BOOST_TEST(r.header("Location") == home_path(h.at("id").as_int64()));
    BOOST_TEST(h.at("name").as_string() == "Cabin");
    BOOST_TEST(h.at("projectId").as_int64() == project_id);
    BOOST_TEST(h.at("deactivated").as_bool() == false);
    BOOST_TEST(h.contains("creationTime"));

    auto list = sim.call(verb::get, "/homes?userId=" + std::to_string(ann), "", ann_key);
    BOOST_REQUIRE_MESSAGE(list.status == 200, list);
    BOOST_TEST(list.json().as_array().size() == 2U);
    BOOST_TEST(list.header("vnd.tinkermode.range") == "0-1/2");
    auto page = sim.call(verb::get, "/homes?skip=1&limit=1", "", ann_key);
    BOOST_REQUIRE(page.json().as_array().size() == 1U);
    BOOST_TEST(page.json().as_array()[0].at("name").as_string() == "Cabin");
    BOOST_TEST(page.header("vnd.tinkermode.range") == "1-1/2");
    auto none = sim.call(verb::get, "/homes", "", bob_key);
    BOOST_TEST(none.json().as_array().empty());
    BOOST_TEST(none.header("vnd.tinkermode.range") == "*/0");
    BOOST_TEST(error_of(sim.call(verb::get, "/homes?userId=" + std::to_string(ann), "", bob_key)) ==
               "403 PERMISSION_DENIED");
    BOOST_TEST(error_of(sim.call(verb::get, "/homes?limit=0", "", ann_key)) == "403 INVALID_INPUT");
    BOOST_TEST(error_of(sim.call(verb::post, "/homes", json::object{}, ann_key)) == "403 INVALID_INPUT");
    BOOST_TEST(sim.call(verb::get, "/homes?userId=" + std::to_string(ann), "", byou_key).json().as_array().size() == 2U);
}

BOOST_FIXTURE_TEST_CASE(non_members_and_missing_homes, household)
{
    BOOST_TEST(sim.call(verb::get, home_path(home), "", ann_key).json().at("name").as_string() == "Flat");
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home), "", bob_key)) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home, "/members"), "", bob_key)) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home, "/kv/x"), "", bob_key)) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of(sim.call(verb::get, "/devices?homeId=" + std::to_string(home), "", bob_key)) ==
               "403 MEMBERS_ONLY");
    BOOST_TEST(error_of(sim.call(verb::get, home_path(999999), "", ann_key)) == "404 HOME_NOT_FOUND");
    BOOST_TEST(error_of(sim.call(verb::get, "/homes/abc", "", ann_key)) == "404 HOME_NOT_FOUND");
    auto device = sim.provision_device();
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home), "", std::string(device.at("apiKey").as_string()))) ==
               "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home))) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(sim.call(verb::get, home_path(home), "", plain_key).status == 200U);
}

BOOST_FIXTURE_TEST_CASE(members_add_conflict_role_and_last_owner, household)
{
    auto added = sim.call(verb::post, home_path(home, "/members"), json::object{{"userId", bob}}, ann_key);
    BOOST_REQUIRE_MESSAGE(added.status == 201, added);
    BOOST_TEST(added.json().at("userId").as_int64() == bob);
    BOOST_TEST(added.json().at("role").as_string() == "member");
    BOOST_TEST(added.json().at("name").as_string() == "Bob");
    BOOST_TEST(added.header("Location") == home_path(home, "/members/" + std::to_string(bob)));
    BOOST_TEST(error_of(sim.call(verb::post, home_path(home, "/members"), json::object{{"userId", bob}}, ann_key)) ==
               "409 MEMBER_EXISTS");
    BOOST_TEST(sim.call(verb::get, home_path(home), "", bob_key).status == 200U); // now a member

    auto cat = sim.create_user("Cat");
    BOOST_TEST(error_of(sim.call(verb::post, home_path(home, "/members"), json::object{{"userId", cat}}, bob_key)) ==
               "403 PERMISSION_DENIED");
    BOOST_TEST(error_of(sim.call(verb::post, home_path(home, "/members"), json::object{{"userId", 424242}}, ann_key)) ==
               "404 USER_NOT_FOUND");
    BOOST_TEST(error_of(sim.call(verb::post, home_path(home, "/members"),
                                 json::object{{"userId", cat}, {"role", "admin"}}, ann_key)) == "403 INVALID_INPUT");

    auto members = sim.call(verb::get, home_path(home, "/members"), "", bob_key);
    BOOST_REQUIRE(members.json().as_array().size() == 2U);
    BOOST_TEST(members.json().as_array()[0].at("role").as_string() == "owner");
    BOOST_TEST(members.header("vnd.tinkermode.range") == "0-1/2");

    std::string ann_member = home_path(home, "/members/" + std::to_string(ann));
    std::string bob_member = home_path(home, "/members/" + std::to_string(bob));
    BOOST_TEST(error_of(sim.call(verb::delete_, ann_member, "", ann_key)) == "409 LAST_OWNER");
    BOOST_TEST(error_of(sim.call(verb::patch, ann_member, json::object{{"role", "member"}}, ann_key)) == "409 LAST_OWNER");
    BOOST_TEST(error_of(sim.call(verb::patch, ann_member, json::object{{"role", "member"}}, bob_key)) ==
               "403 PERMISSION_DENIED");
    BOOST_TEST(sim.call(verb::patch, bob_member, json::object{{"role", "owner"}}, ann_key).status == 204U);
    BOOST_TEST(sim.call(verb::delete_, ann_member, "", ann_key).status == 204U);
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home), "", ann_key)) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of(sim.call(verb::delete_, ann_member, "", bob_key)) == "404 MEMBER_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(project_key_homes_start_without_members, household)
{
    auto r = sim.call(verb::post, "/homes", json::object{{"name", "Shared"}}, byou_key);
    BOOST_REQUIRE_MESSAGE(r.status == 201, r);
    auto h = r.json().at("id").as_int64();
    BOOST_TEST(sim.call(verb::get, home_path(h, "/members"), "", byou_key).json().as_array().empty());
    auto add = sim.call(verb::post, home_path(h, "/members"), json::object{{"userId", bob}, {"role", "owner"}}, byou_key);
    BOOST_REQUIRE_MESSAGE(add.status == 201, add);
    BOOST_TEST(add.json().at("role").as_string() == "owner");
    BOOST_TEST(sim.call(verb::get, home_path(h), "", bob_key).status == 200U);
}

BOOST_FIXTURE_TEST_CASE(patch_and_delete_need_an_owner, household)
{
    sim.call(verb::post, home_path(home, "/members"), json::object{{"userId", bob}}, ann_key);
    BOOST_TEST(error_of(sim.call(verb::patch, home_path(home), json::object{{"name", "X"}}, bob_key)) ==
               "403 PERMISSION_DENIED");
    BOOST_TEST(error_of(sim.call(verb::delete_, home_path(home), "", bob_key)) == "403 PERMISSION_DENIED");
    BOOST_TEST(sim.call(verb::patch, home_path(home), json::object{{"name", "Loft"}}, ann_key).status == 204U);
    BOOST_TEST(sim.call(verb::get, home_path(home), "", bob_key).json().at("name").as_string() == "Loft");
    BOOST_TEST(sim.call(verb::delete_, home_path(home), "", ann_key).status == 204U);
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home), "", ann_key)) == "404 HOME_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(key_value_store, household)
{
    auto put = sim.call(verb::put, home_path(home, "/kv/settings"), json::object{{"value", {{"temp", 21}}}}, ann_key);
    BOOST_TEST(put.status == 204U);
    auto got = sim.call(verb::get, home_path(home, "/kv/settings"), "", ann_key);
    BOOST_REQUIRE_MESSAGE(got.status == 200, got);
    BOOST_TEST(got.json().at("key").as_string() == "settings");
    BOOST_TEST(got.json().at("value").at("temp").as_int64() == 21);
    BOOST_TEST(got.json().as_object().contains("modificationTime"));
    BOOST_TEST(sim.call(verb::get, home_path(home, "/kv"), "", byou_key).json().as_array().size() == 1U);
    BOOST_TEST(error_of(sim.call(verb::put, home_path(home, "/kv/x"), json::object{{"v", 1}}, ann_key)) ==
               "403 INVALID_INPUT");
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home, "/kv/missing"), "", ann_key)) == "404 KEY_NOT_FOUND");
    BOOST_TEST(error_of(sim.call(verb::put, home_path(home, "/kv/settings"), json::object{{"value", 1}}, bob_key)) ==
               "403 MEMBERS_ONLY");
    BOOST_TEST(sim.call(verb::delete_, home_path(home, "/kv/settings"), "", ann_key).status == 204U);
    BOOST_TEST(error_of(sim.call(verb::get, home_path(home, "/kv/settings"), "", ann_key)) == "404 KEY_NOT_FOUND");
}

BOOST_AUTO_TEST_SUITE_END()
