#include "state.hpp"

#include "sim_fixture.hpp"
#include "views.hpp"

#include <boost/test/unit_test.hpp>

using namespace modesim;
using modesim_test::error_of;
using namespace std::chrono_literals;

namespace {

/** A state with a clock the test moves by hand. */
struct fixture
{
    time_point clock_now = time_point(std::chrono::milliseconds(1'576'551'359'483));
    state st{[this] {
        state_options o;
        o.project_id = 7;
        o.byou_key = "byou";
        o.plain_key = "plain";
        o.clock = [this] { return clock_now; };
        o.max_events = 2;
        return o;
    }()};
    principal project = *st.find_key("byou");

    principal new_user_key(const std::string& name = "u")
    {
        user u = st.create_user(project, 7, name, std::nullopt);
        return *st.find_key(st.issue_user_key(project, 7, u.id, "app").token);
    }
    principal device_key(object_id id)
    {
        for (const auto& d : st.devices())
            if (d.id == id)
                return *st.find_key(d.api_key);
        throw std::logic_error("no such device");
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_state)

BOOST_AUTO_TEST_CASE(format_time_is_rfc3339_utc_with_milliseconds)
{
    BOOST_TEST(format_time(time_point(std::chrono::milliseconds(1'576'551'359'483))) == "2019-12-17T02:55:59.483Z");
    BOOST_TEST(format_time(time_point(std::chrono::milliseconds(0))) == "1970-01-01T00:00:00.000Z");
    BOOST_TEST(format_time(time_point(std::chrono::milliseconds(-1))) == "1969-12-31T23:59:59.999Z");
}

BOOST_FIXTURE_TEST_CASE(authenticate_reads_the_modecloud_header, fixture)
{
    BOOST_TEST((st.authenticate("ModeCloud byou").kind == key_kind::project));
    BOOST_TEST(st.authenticate("  modecloud   byou ").byou); // scheme case-insensitive, blanks trimmed
    BOOST_TEST(!st.authenticate("ModeCloud plain").byou);
    BOOST_TEST(error_of([&] { st.authenticate(""); }) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(error_of([&] { st.authenticate("ModeCloud"); }) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(error_of([&] { st.authenticate("Bearer byou"); }) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(error_of([&] { st.authenticate("ModeCloudbyou"); }) == "401 AUTHORIZATION_REQUIRED");
    BOOST_TEST(error_of([&] { st.authenticate("ModeCloud nope"); }) == "401 UNAUTHENTICATED_CLIENT");
}

BOOST_FIXTURE_TEST_CASE(users_and_keys, fixture)
{
    user u = st.create_user(project, 7, "Ann", std::string("ext-1"));
    BOOST_TEST(u.id > 0);
    BOOST_TEST(u.project_id == 7);
    BOOST_TEST(format_time(u.creation_time) == "2019-12-17T02:55:59.483Z");
    issued_key k = st.issue_user_key(project, 7, u.id, "my-app");
    BOOST_TEST(k.token.size() >= 32U);
    auto p = st.find_key(k.token);
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->user_id == u.id);
    BOOST_TEST(p->app_id == "my-app");
    BOOST_TEST((st.get_user(*p, u.id).external_key == std::optional<std::string>("ext-1")));
    // A second key for the same user is a different, equally valid key.
    BOOST_TEST(st.issue_user_key(project, 7, u.id, "").token != k.token);

    auto plain = *st.find_key("plain");
    BOOST_TEST(error_of([&] { st.create_user(plain, 7, "", std::nullopt); }) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of([&] { st.issue_user_key(plain, 7, u.id, ""); }) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of([&] { st.create_user(*p, 7, "", std::nullopt); }) == "403 INSUFFICIENT_AUTH");
    BOOST_TEST(error_of([&] { st.create_user(project, 8, "", std::nullopt); }) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of([&] { st.issue_user_key(project, 7, 999, ""); }) == "404 USER_NOT_FOUND");
    BOOST_TEST(st.get_user(plain, u.id).id == u.id);
}

BOOST_FIXTURE_TEST_CASE(deleting_a_user_removes_keys_and_memberships, fixture)
{
    principal ann = new_user_key("ann");
    principal bob = new_user_key("bob");
    home h = st.create_home(ann, "flat");
    st.add_member(ann, h.id, bob.user_id, member_role::member);
    BOOST_TEST(error_of([&] { st.delete_user(ann, bob.user_id); }) == "403 PERMISSION_DENIED");
    st.delete_user(bob, bob.user_id);
    BOOST_TEST(!st.find_key(bob.token).has_value());
    BOOST_TEST(st.list_members(ann, h.id, {}).total == 1U);
    BOOST_TEST(error_of([&] { st.get_user(project, bob.user_id); }) == "404 USER_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(revoke_key_ends_only_that_session, fixture)
{
    principal ann = new_user_key("ann");
    auto second = *st.find_key(st.issue_user_key(project, 7, ann.user_id, "").token);
    st.revoke_key(ann);
    BOOST_TEST(!st.find_key(ann.token).has_value());
    BOOST_TEST(st.find_key(second.token).has_value());
    BOOST_TEST(error_of([&] { st.revoke_key(project); }) == "403 INSUFFICIENT_AUTH");
}

BOOST_FIXTURE_TEST_CASE(members_owners_and_conflicts, fixture)
{
    principal ann = new_user_key("ann");
    principal bob = new_user_key("bob");
    principal cat = new_user_key("cat");
    home h = st.create_home(ann, "flat");
    BOOST_TEST(st.add_member(ann, h.id, bob.user_id, member_role::member).u.name == "bob");
    BOOST_TEST(error_of([&] { st.add_member(ann, h.id, bob.user_id, member_role::owner); }) == "409 MEMBER_EXISTS");
    BOOST_TEST(error_of([&] { st.add_member(bob, h.id, cat.user_id, member_role::member); }) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of([&] { st.add_member(cat, h.id, cat.user_id, member_role::member); }) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of([&] { st.add_member(ann, h.id, 12345, member_role::member); }) == "404 USER_NOT_FOUND");
    BOOST_TEST(error_of([&] { st.remove_member(ann, h.id, ann.user_id); }) == "409 LAST_OWNER");
    BOOST_TEST(error_of([&] { st.set_member_role(ann, h.id, ann.user_id, member_role::member); }) == "409 LAST_OWNER");
    BOOST_TEST(error_of([&] { st.remove_member(ann, h.id, cat.user_id); }) == "404 MEMBER_NOT_FOUND");
    st.set_member_role(project, h.id, bob.user_id, member_role::owner);
    st.remove_member(ann, h.id, ann.user_id); // another owner remains
    auto members = st.list_members(bob, h.id, {});
    BOOST_REQUIRE(members.items.size() == 1U);
    BOOST_TEST(members.items[0].m.user_id == bob.user_id);
    BOOST_TEST(error_of([&] { st.get_home(ann, h.id); }) == "403 MEMBERS_ONLY");
}

BOOST_FIXTURE_TEST_CASE(a_member_may_leave_but_not_remove_others, fixture)
{
    principal ann = new_user_key("ann");
    principal bob = new_user_key("bob");
    principal cat = new_user_key("cat");
    home h = st.create_home(ann, "flat");
    st.add_member(ann, h.id, bob.user_id, member_role::member);
    st.add_member(ann, h.id, cat.user_id, member_role::member);
    BOOST_TEST(error_of([&] { st.remove_member(bob, h.id, cat.user_id); }) == "403 PERMISSION_DENIED");
    st.remove_member(bob, h.id, bob.user_id);
    BOOST_TEST(st.list_members(ann, h.id, {}).total == 2U);
}

BOOST_FIXTURE_TEST_CASE(project_homes_start_empty_and_lists_page, fixture)
{
    principal ann = new_user_key("ann");
    home empty = st.create_home(project, "shared");
    BOOST_TEST(st.list_members(project, empty.id, {}).total == 0U);
    for (int i = 0; i < 3; ++i)
        st.create_home(ann, "h" + std::to_string(i));
    auto first = st.list_homes(ann, std::nullopt, {0, 2});
    BOOST_TEST(first.items.size() == 2U);
    BOOST_TEST(first.total == 3U);
    auto rest = st.list_homes(ann, ann.user_id, {2, 2});
    BOOST_TEST(rest.items.size() == 1U);
    BOOST_TEST(rest.items[0].name == "h2");
    BOOST_TEST((st.list_homes(ann, std::nullopt, {5, 2}).items.empty()));
    BOOST_TEST((st.list_homes(project, std::nullopt, {0, 25}).total == 4U));
    BOOST_TEST(error_of([&] { st.list_homes(ann, empty.id, {}); }) == "403 PERMISSION_DENIED");
}

BOOST_FIXTURE_TEST_CASE(claiming_follows_claim_mode, fixture)
{
    principal ann = new_user_key("ann");
    principal bob = new_user_key("bob");
    home h = st.create_home(ann, "flat");
    home other = st.create_home(bob, "other");
    provisioned_device pd = st.provision_device("lamp", "Lamp", "t");
    principal dev = device_key(pd.id);
    BOOST_TEST(pd.claim_code.size() == 8U);

    BOOST_TEST(error_of([&] { st.claim_device(ann, h.id, pd.claim_code); }) == "403 DEVICE_NOT_CLAIMABLE");
    auto expires = st.register_device(dev, true, 60s);
    BOOST_REQUIRE(expires.has_value());
    BOOST_TEST(format_time(*expires) == "2019-12-17T02:56:59.483Z");
    clock_now += 61s;
    BOOST_TEST(error_of([&] { st.claim_device(ann, h.id, pd.claim_code); }) == "403 DEVICE_NOT_CLAIMABLE");
    st.register_device(dev, true, 60s);
    BOOST_TEST(error_of([&] { st.claim_device(ann, h.id, "WRONG"); }) == "403 DEVICE_NOT_CLAIMABLE");
    BOOST_TEST(error_of([&] { st.claim_device(ann, other.id, pd.claim_code); }) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of([&] { st.claim_device(project, h.id, pd.claim_code); }) == "403 INSUFFICIENT_AUTH");
    device d = st.claim_device(ann, h.id, pd.claim_code);
    BOOST_TEST((d.home_id == std::optional<object_id>(h.id)));
    BOOST_TEST(d.claim_time.has_value());
    BOOST_TEST(!d.claim_expiration_time.has_value());
    st.register_device(dev, true, 60s);
    BOOST_TEST(error_of([&] { st.claim_device(bob, other.id, pd.claim_code); }) == "409 DEVICE_ALREADY_IN_HOME");

    BOOST_TEST(error_of([&] { st.get_device(bob, pd.id); }) == "403 MEMBERS_ONLY");
    BOOST_TEST(st.get_device(dev, pd.id).id == pd.id);
    st.remove_device(ann, pd.id);
    BOOST_TEST(error_of([&] { st.get_device(ann, pd.id); }) == "404 DEVICE_NOT_FOUND");
    BOOST_TEST((st.get_device(project, pd.id).home_id == std::nullopt));
}

BOOST_FIXTURE_TEST_CASE(deleting_a_home_releases_its_devices, fixture)
{
    principal ann = new_user_key("ann");
    home h = st.create_home(ann, "flat");
    provisioned_device pd = st.provision_device("lamp", "", "");
    st.register_device(device_key(pd.id), true, 60s);
    st.claim_device(ann, h.id, pd.claim_code);
    st.delete_home(ann, h.id);
    BOOST_TEST((st.get_device(project, pd.id).home_id == std::nullopt));
    BOOST_TEST(error_of([&] { st.get_home(project, h.id); }) == "404 HOME_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(commands_need_a_connection, fixture)
{
    principal ann = new_user_key("ann");
    home h = st.create_home(ann, "flat");
    provisioned_device pd = st.provision_device("lamp", "", "");
    principal dev = device_key(pd.id);
    st.register_device(dev, true, 60s);
    st.claim_device(ann, h.id, pd.claim_code);
    BOOST_TEST(error_of([&] { st.send_command(ann, pd.id, "on", {}); }) == "409 DEVICE_OFFLINE");
    st.set_connected(pd.id, true);
    BOOST_TEST(st.get_device(ann, pd.id).last_connect_time.has_value());
    st.send_command(ann, pd.id, "on", {{"level", 3}});
    st.send_command(project, pd.id, "off", {});
    BOOST_TEST(error_of([&] { st.send_command(dev, pd.id, "x", {}); }) == "403 INSUFFICIENT_AUTH");
    auto cmds = st.commands_of(pd.id);
    BOOST_REQUIRE(cmds.size() == 2U);
    BOOST_TEST(cmds[0].action == "on");
    BOOST_TEST(cmds[0].parameters.at("level").as_int64() == 3);
    BOOST_TEST(cmds[1].action == "off");
    BOOST_TEST(error_of([&] { st.commands_of(999); }) == "404 DEVICE_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(events_are_recorded_capped_and_announced, fixture)
{
    principal ann = new_user_key("ann");
    home h = st.create_home(ann, "flat");
    provisioned_device pd = st.provision_device("sensor", "", "");
    provisioned_device other = st.provision_device("sensor", "", "");
    principal dev = device_key(pd.id);
    st.register_device(dev, true, 60s);
    st.claim_device(ann, h.id, pd.claim_code);
    std::vector<event_record> heard;
    st.set_event_listener([&](const event_record& e) { heard.push_back(e); });
    for (int i = 0; i < 3; ++i)
        st.record_event(dev, pd.id, "t" + std::to_string(i), {{"n", i}}, "10.0.0.1");
    BOOST_TEST(heard.size() == 3U);
    auto kept = st.events();
    BOOST_REQUIRE(kept.size() == 2U); // max_events = 2: the oldest went
    BOOST_TEST(kept[0].event_type == "t1");
    auto json = to_json(kept[1]);
    BOOST_TEST(json.at("homeId").as_int64() == h.id);
    BOOST_TEST(json.at("originDeviceId").as_int64() == pd.id);
    BOOST_TEST(json.at("originDeviceClass").as_string() == "sensor");
    BOOST_TEST(json.at("originDeviceIp").as_string() == "10.0.0.1");
    BOOST_TEST(json.at("eventData").at("n").as_int64() == 2);
    BOOST_TEST(error_of([&] { st.record_event(dev, other.id, "x", {}, ""); }) == "403 PERMISSION_DENIED");
    BOOST_TEST(error_of([&] { st.record_event(ann, pd.id, "x", {}, ""); }) == "403 INSUFFICIENT_AUTH");
}

BOOST_FIXTURE_TEST_CASE(kv_store_is_for_members, fixture)
{
    principal ann = new_user_key("ann");
    principal bob = new_user_key("bob");
    home h = st.create_home(ann, "flat");
    st.put_kv(ann, h.id, "cfg", boost::json::value{{"a", 1}});
    BOOST_TEST(st.get_kv(project, h.id, "cfg").value.at("a").as_int64() == 1);
    BOOST_TEST(error_of([&] { st.get_kv(bob, h.id, "cfg"); }) == "403 MEMBERS_ONLY");
    BOOST_TEST(error_of([&] { st.get_kv(ann, h.id, "nope"); }) == "404 KEY_NOT_FOUND");
    st.delete_kv(ann, h.id, "cfg");
    BOOST_TEST(st.list_kv(ann, h.id).empty());
    BOOST_TEST(error_of([&] { st.delete_kv(ann, h.id, "cfg"); }) == "404 KEY_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(reset_keeps_only_the_project_keys, fixture)
{
    principal ann = new_user_key("ann");
    st.create_home(ann, "flat");
    provisioned_device pd = st.provision_device("lamp", "", "");
    st.reset();
    auto s = st.counts();
    BOOST_TEST(s.users == 0U);
    BOOST_TEST(s.homes == 0U);
    BOOST_TEST(s.devices == 0U);
    BOOST_TEST(!st.find_key(ann.token).has_value());
    BOOST_TEST(!st.find_key(pd.api_key).has_value());
    BOOST_TEST(st.find_key("byou").has_value());
    BOOST_TEST(st.find_key("plain").has_value());
    // Ids are never reused, even after a reset.
    BOOST_TEST((st.create_user(project, 7, "", std::nullopt).id > pd.id));
}

BOOST_AUTO_TEST_SUITE_END()
