// The snapshot a restarted emulator comes back with (MODESIM_STATE_FILE): everything a MODE client relies on
// across a restart is there, keys still work, revoked ones still do not, and new ids never reuse old ones.
#include "state.hpp"

#include "sim_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace modesim;
using modesim_test::error_of;

BOOST_AUTO_TEST_SUITE(modesim_state)

BOOST_AUTO_TEST_CASE(a_restored_snapshot_keeps_users_keys_homes_members_kv_and_devices)
{
    state_options o;
    o.byou_key = "byou";
    o.plain_key = "plain";
    state before(o);
    auto project = *before.find_key("byou");
    auto owner = before.create_user(project, 1, "Owner", std::string("ext-1"));
    auto guest = before.create_user(project, 1, "Guest", std::nullopt);
    auto owner_key = before.issue_user_key(project, 1, owner.id, "app").token;
    auto guest_key = before.issue_user_key(project, 1, guest.id, "app").token;
    auto revoked = before.issue_user_key(project, 1, guest.id, "app").token;
    before.revoke_key(*before.find_key(revoked));
    auto owner_p = *before.find_key(owner_key);
    auto h = before.create_home(owner_p, "Cabin");
    before.add_member(owner_p, h.id, guest.id, member_role::member);
    before.put_kv(owner_p, h.id, "mode", boost::json::parse(R"({"eco":true})"));
    auto dev = before.provision_device("sensor", "Door", "front");
    before.register_device(*before.find_key(dev.api_key), true, std::chrono::seconds(60));
    auto claimed = before.claim_device(owner_p, h.id, dev.claim_code);

    // Through text, as the file holds it.
    state after(o);
    after.restore(boost::json::parse(boost::json::serialize(before.snapshot())));

    auto owner_again = after.authenticate("ModeCloud " + owner_key);
    BOOST_TEST((owner_again.kind == key_kind::user));
    BOOST_TEST(owner_again.user_id == owner.id);
    BOOST_TEST(after.authenticate("ModeCloud " + guest_key).user_id == guest.id);
    BOOST_TEST(error_of([&] { after.authenticate("ModeCloud " + revoked); }) == "401 UNAUTHENTICATED_CLIENT");
    BOOST_TEST(after.authenticate("ModeCloud plain").byou == false);
    BOOST_TEST(after.get_user(owner_again, owner.id).external_key.value_or("") == "ext-1");

    auto home_again = after.get_home(owner_again, h.id);
    BOOST_TEST(home_again.name == "Cabin");
    BOOST_TEST_REQUIRE(home_again.members.size() == 2U);
    BOOST_TEST((home_again.members[0].role == member_role::owner));
    BOOST_TEST(home_again.members[1].user_id == guest.id);
    BOOST_TEST(boost::json::serialize(after.get_kv(owner_again, h.id, "mode").value) == R"({"eco":true})");

    auto dev_again = after.get_device(owner_again, dev.id);
    BOOST_TEST(dev_again.home_id.value_or(0) == h.id);
    BOOST_TEST(dev_again.api_key == claimed.api_key);
    BOOST_TEST(!dev_again.connected);
    BOOST_TEST((after.authenticate("ModeCloud " + dev.api_key).kind == key_kind::device));

    // Ids continue after the last one handed out before the restart.
    auto newcomer = after.create_user(*after.find_key("byou"), 1, "New", std::nullopt);
    BOOST_TEST(newcomer.id > dev.id);
}

BOOST_AUTO_TEST_SUITE_END()
