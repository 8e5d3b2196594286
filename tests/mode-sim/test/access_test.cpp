#include "access.hpp"

#include "sim_fixture.hpp"

#include <boost/test/unit_test.hpp>

using namespace modesim;
using modesim_test::error_of;

namespace {

principal project_key(bool byou)
{
    principal p;
    p.kind = key_kind::project;
    p.project_id = 7;
    p.byou = byou;
    return p;
}

principal user_key(object_id id)
{
    principal p;
    p.kind = key_kind::user;
    p.project_id = 7;
    p.user_id = id;
    return p;
}

principal device_key(object_id id)
{
    principal p;
    p.kind = key_kind::device;
    p.project_id = 7;
    p.device_id = id;
    return p;
}

home home_with(std::vector<membership> members)
{
    home h;
    h.id = 50;
    h.project_id = 7;
    h.members = std::move(members);
    return h;
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_access)

BOOST_AUTO_TEST_CASE(byou_calls_need_a_byou_project_key)
{
    BOOST_TEST(error_of([] { require_byou_project(project_key(true)); }) == "no error");
    BOOST_TEST(error_of([] { require_byou_project(project_key(false)); }) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of([] { require_byou_project(user_key(1)); }) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of([] { require_byou_project(device_key(1)); }) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of([] { require_same_project(project_key(true), 8); }) == "403 PERMISSION_DENIED");
}

BOOST_AUTO_TEST_CASE(a_user_key_reaches_only_its_own_user)
{
    BOOST_TEST(error_of([] { require_self_or_project(user_key(1), 1); }) == "no error");
    BOOST_TEST(error_of([] { require_self_or_project(project_key(false), 1); }) == "no error");
    BOOST_TEST(error_of([] { require_self_or_project(user_key(2), 1); }) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of([] { require_self_or_project(device_key(1), 1); }) == "403 INSUFFICIENT_AUTH");
}

BOOST_AUTO_TEST_CASE(key_kinds)
{
    BOOST_TEST(error_of([] { require_user(project_key(true)); }) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of([] { require_device(user_key(1)); }) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of([] { require_project(user_key(1)); }) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of([] { require_user_or_project(device_key(1)); }) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of([] { require_device_self(device_key(3), 3); }) == "no error");
    BOOST_TEST(error_of([] { require_device_self(device_key(3), 4); }) == "403 PERMISSION_DENIED");
}

BOOST_AUTO_TEST_CASE(home_access_by_role)
{
    home h = home_with({{1, member_role::owner}, {2, member_role::member}});
    BOOST_TEST((access_to(user_key(1), h) == home_access::owner));
    BOOST_TEST((access_to(user_key(2), h) == home_access::member));
    BOOST_TEST((access_to(user_key(3), h) == home_access::none));
    BOOST_TEST((access_to(project_key(false), h) == home_access::project));
    BOOST_TEST((access_to(device_key(1), h) == home_access::none));
    principal foreign = project_key(true);
    foreign.project_id = 8;
    BOOST_TEST((access_to(foreign, h) == home_access::none));

    struct row
    {
        principal who;
        std::string member;
        std::string owner;
    };
    std::vector<row> rows{
        {user_key(1), "no error", "no error"},
        {user_key(2), "no error", "403 PERMISSION_DENIED"},
        {user_key(3), "403 MEMBERS_ONLY", "403 MEMBERS_ONLY"},
        {project_key(false), "no error", "no error"},
        {device_key(1), "403 INSUFFICIENT_AUTH", "403 INSUFFICIENT_AUTH"},
        {foreign, "403 PERMISSION_DENIED", "403 PERMISSION_DENIED"},
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
        BOOST_TEST_CONTEXT("row " << i)
        {
            BOOST_TEST(error_of([&] { require_home_member(rows[i].who, h); }) == rows[i].member);
            BOOST_TEST(error_of([&] { require_home_owner(rows[i].who, h); }) == rows[i].owner);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
