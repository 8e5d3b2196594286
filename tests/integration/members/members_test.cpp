// The add-member flow (api.md): existing users, unknown emails (invitations), repeats, failures half-way,
// and the confirm-first variant.
#include "support/mode_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <thread>

using namespace common::aliases;
using test::db_count;
using test::has_home;
using test::mails_with;
using test::members_of;
using test::mode_fixture;

BOOST_AUTO_TEST_SUITE(members)

namespace {

std::string body(json::object o)
{
    return json::serialize(o);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(adding_an_existing_user, mode_fixture)
{
    auto [owner_email, owner] = user("owner");
    auto [friend_email, friend_token] = user("friend");
    auto home = create_home(owner, "Lake house");
    auto path = "/v1/homes/" + std::to_string(home) + "/members";

    auto added = call(http::verb::post, path, owner, body({{"email", friend_email}}));
    BOOST_TEST_REQUIRE(added.status == 201U, added);
    auto m = added.json().as_object();
    BOOST_TEST(m.at("userId").as_int64() == mode_id(friend_token));
    BOOST_TEST(m.at("role").as_string() == "member");
    BOOST_TEST(m.at("email").as_string() == friend_email);
    BOOST_TEST(has_home(*this, friend_token, home));
    // Told by mail.
    auto mail = test::wait_for_mail(friend_email, "added", std::chrono::seconds(15));
    BOOST_TEST_REQUIRE(mail.has_value());
    BOOST_TEST(mail->text_body().find("Lake house") != std::string::npos);

    // A repeat answers with the existing membership and tells nobody twice.
    auto repeat = call(http::verb::post, path, owner, body({{"email", friend_email}}));
    BOOST_TEST(repeat.status == 200U, repeat);
    BOOST_TEST(repeat.json().at("userId") == m.at("userId"));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    BOOST_TEST(mails_with(friend_email, "added") == 1U);

    // The list joins MODE's members with ours.
    auto list = call(http::verb::get, path, owner).json().as_array();
    BOOST_TEST(list.size() == 2U);
    for (const auto& e : list)
        BOOST_TEST(!e.at("email").is_null());

    // A member is not an owner: they cannot add anyone, and nothing changes.
    auto [third_email, third] = user("third");
    auto before = members_of(*this, owner, home);
    BOOST_TEST(before.find("| rows: 2") != std::string::npos, before);
    auto refused = call(http::verb::post, path, friend_token, body({{"email", third_email}}));
    BOOST_TEST(refused.status == 403U, refused);
    BOOST_TEST(refused.json().at("code").as_string() == "MODE_PERMISSION_DENIED");
    BOOST_TEST(!has_home(*this, third, home));
    BOOST_TEST(members_of(*this, owner, home) == before);
    // Nor remove the owner.
    refused = call(http::verb::delete_, path + "/" + std::to_string(mode_id(owner)), friend_token);
    BOOST_TEST(refused.status == 403U, refused);
    BOOST_TEST(refused.json().at("code").as_string() == "MODE_PERMISSION_DENIED", refused);
    BOOST_TEST(members_of(*this, owner, home) == before);

    // Removing the member.
    auto removed = call(http::verb::delete_, path + "/" + std::to_string(m.at("userId").as_int64()), owner);
    BOOST_TEST(removed.status == 204U, removed);
    BOOST_TEST(!has_home(*this, friend_token, home));
    BOOST_TEST(db_count(db.url(),
                        "SELECT count(*) FROM home_members hm JOIN users u ON u.id = hm.user_id WHERE u.email_normalized = $1",
                     friend_email) == 0);
    // The last owner cannot leave.
    auto alone = members_of(*this, owner, home);
    BOOST_TEST(alone == "gateway: " + std::to_string(mode_id(owner)) + ":owner | MODE: " +
                            std::to_string(mode_id(owner)) + ":owner | rows: 1");
    auto last = call(http::verb::delete_, path + "/" + std::to_string(mode_id(owner)), owner);
    BOOST_TEST(last.status == 409U, last);
    BOOST_TEST(last.json().at("code").as_string() == "MODE_LAST_OWNER");
    BOOST_TEST(members_of(*this, owner, home) == alone);

    // Bad input: refused, nothing added, nobody told.
    auto bad = call(http::verb::post, path, owner, body({{"email", "nope"}}));
    BOOST_TEST(bad.status == 400U, bad);
    BOOST_TEST(bad.json().at("code").as_string() == "INVALID_EMAIL", bad);
    bad = call(http::verb::post, path, owner, body({{"email", third_email}, {"role", "admin"}}));
    BOOST_TEST(bad.status == 400U, bad);
    BOOST_TEST(bad.json().at("code").as_string() == "INVALID_REQUEST", bad);
    BOOST_TEST(members_of(*this, owner, home) == alone);
    BOOST_TEST(!has_home(*this, third, home));
}

BOOST_FIXTURE_TEST_CASE(inviting_an_unknown_email, mode_fixture)
{
    auto [owner_email, owner] = user("owner");
    auto home = create_home(owner, "Shared flat");
    auto invitee = test::unique_email("newcomer");
    auto added = call(http::verb::post, "/v1/homes/" + std::to_string(home) + "/members", owner,
                      body({{"email", invitee}, {"role", "owner"}}));
    BOOST_TEST_REQUIRE(added.status == 201U, added);
    BOOST_TEST(added.json().at("role").as_string() == "owner");
    BOOST_TEST(added.json().at("email").as_string() == invitee);
    // An invited account here, linked to a new MODE user.
    BOOST_TEST(db_count(db.url(), "SELECT count(*) FROM users WHERE email_normalized = $1 AND status = 'invited'", invitee) ==
               1);
    auto mode_user = added.json().at("userId").as_int64();
    BOOST_TEST(project_call(http::verb::get, "/users/" + std::to_string(mode_user)).status == 200U);

    // The invitation mail; accepting it logs the newcomer in, and they see the home.
    auto mail = test::wait_for_mail(invitee, "invited you", std::chrono::seconds(15));
    BOOST_TEST_REQUIRE(mail.has_value());
    BOOST_TEST(mail->text_body().find("http://app.example.test/accept-invite?token=") != std::string::npos);
    BOOST_TEST(mail->text_body().find("Shared flat") != std::string::npos);
    auto token = test::token_from_mail(invitee, "invited you");
    auto accepted = test::post_json(gw, "/v1/auth/accept-invite",
                                    {{"token", token}, {"password", test::good_password}, {"name", "New Comer"}});
    BOOST_TEST_REQUIRE(accepted.status == 200U, accepted);
    auto session = std::string(accepted.json().at("token").as_string());
    BOOST_TEST(has_home(*this, session, home));
    BOOST_TEST(mode_id(session) == mode_user);
}

BOOST_FIXTURE_TEST_CASE(a_failure_half_way_then_a_retry, mode_fixture)
{
    auto [owner_email, owner] = user("owner");
    auto home = create_home(owner);
    auto path = "/v1/homes/" + std::to_string(home) + "/members";
    auto invitee = test::unique_email("retry");
    // MODE fails the member add once: the account exists here, nobody is told, nothing blocks a retry.
    add_fault({{"path", "/homes/" + std::to_string(home) + "/members"}, {"method", "POST"}, {"status", 503}, {"count", 1}});
    auto before = members_of(*this, owner, home);
    auto failed = call(http::verb::post, path, owner, body({{"email", invitee}}));
    BOOST_TEST(failed.status == 503U, failed);
    BOOST_TEST(failed.json().at("code").as_string() == "MODE_UNAVAILABLE");
    BOOST_TEST(members_of(*this, owner, home) == before);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    BOOST_TEST(test::mails_to(invitee).empty());

    auto retried = call(http::verb::post, path, owner, body({{"email", invitee}}));
    BOOST_TEST_REQUIRE(retried.status == 201U, retried);
    // One account, one MODE user, one invitation.
    BOOST_TEST(db_count(db.url(), "SELECT count(*) FROM users WHERE email_normalized = $1", invitee) == 1);
    std::string id;
    {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        id = tx.exec_params1("SELECT id::text FROM users WHERE email_normalized = $1", invitee)[0].as<std::string>();
    }
    BOOST_TEST(sim_call(http::verb::get, "/_sim/users?externalKey=" + id).json().as_array().size() == 1U);
    BOOST_TEST_REQUIRE(test::wait_for_mail(invitee, "invited you", std::chrono::seconds(15)).has_value());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    BOOST_TEST(test::mails_to(invitee).size() == 1U);
}

BOOST_AUTO_TEST_CASE(confirm_first_makes_the_membership_on_acceptance)
{
    mode_fixture f(std::map<std::string, std::string>{{"MB_MEMBER_FLOW", "confirm-first"}});
    auto [owner_email, owner] = f.user("owner");
    auto [friend_email, friend_token] = f.user("friend");
    auto home = f.create_home(owner, "Cabin");
    auto path = "/v1/homes/" + std::to_string(home) + "/members";

    // An existing user: pending until they accept.
    auto pending = f.call(http::verb::post, path, owner, body({{"email", friend_email}}));
    BOOST_TEST_REQUIRE(pending.status == 202U, pending);
    BOOST_TEST(pending.json().at("status").as_string() == "pending");
    BOOST_TEST(!has_home(f, friend_token, home));
    auto mail = test::wait_for_mail(friend_email, "invited you", std::chrono::seconds(15));
    BOOST_TEST_REQUIRE(mail.has_value());
    BOOST_TEST(mail->text_body().find("/accept-home-invite?token=") != std::string::npos);
    auto token = test::token_from_mail(friend_email, "invited you");
    // The invitation is theirs alone: someone else's acceptance is refused and changes nothing.
    auto [other_email, other] = f.user("other");
    auto before = members_of(f, owner, home);
    BOOST_TEST(before.find("| rows: 1") != std::string::npos, before);
    auto wrong = f.call(http::verb::post, "/v1/invitations/accept", other, body({{"token", token}}));
    BOOST_TEST(wrong.status == 400U, wrong);
    BOOST_TEST(members_of(f, owner, home) == before);
    BOOST_TEST(!has_home(f, other, home));
    BOOST_TEST(!has_home(f, friend_token, home));
    auto accepted = f.call(http::verb::post, "/v1/invitations/accept", friend_token, body({{"token", token}}));
    BOOST_TEST_REQUIRE(accepted.status == 200U, accepted);
    BOOST_TEST(accepted.json().at("email").as_string() == friend_email);
    BOOST_TEST(has_home(f, friend_token, home));
    auto with_friend = members_of(f, owner, home);
    BOOST_TEST(with_friend.find("| rows: 2") != std::string::npos, with_friend);
    auto twice = f.call(http::verb::post, "/v1/invitations/accept", friend_token, body({{"token", token}}));
    BOOST_TEST(twice.status == 400U, twice);
    BOOST_TEST(members_of(f, owner, home) == with_friend);

    // An unknown email: accepting the account accepts the home too.
    auto newcomer = test::unique_email("newcomer");
    BOOST_TEST(f.call(http::verb::post, path, owner, body({{"email", newcomer}})).status == 202U);
    auto invite = test::token_from_mail(newcomer, "invited you");
    auto joined = test::post_json(f.gw, "/v1/auth/accept-invite", {{"token", invite}, {"password", test::good_password}});
    BOOST_TEST_REQUIRE(joined.status == 200U, joined);
    BOOST_TEST(has_home(f, std::string(joined.json().at("token").as_string()), home));

    // Only an owner invites: a member's invitation is refused, and nobody is invited.
    auto everyone = members_of(f, owner, home);
    auto not_owner = f.call(http::verb::post, path, friend_token, body({{"email", other_email}}));
    BOOST_TEST(not_owner.status == 403U, not_owner);
    BOOST_TEST(members_of(f, owner, home) == everyone);
    // Nor is an account made here for an address nobody has.
    auto nobody = test::unique_email("nobody");
    not_owner = f.call(http::verb::post, path, friend_token, body({{"email", nobody}}));
    BOOST_TEST(not_owner.status == 403U, not_owner);
    BOOST_TEST(db_count(f.db.url(), "SELECT count(*) FROM users WHERE email_normalized = $1", nobody) == 0);
    BOOST_TEST(members_of(f, owner, home) == everyone);
}

BOOST_AUTO_TEST_SUITE_END()
