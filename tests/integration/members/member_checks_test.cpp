// Who may invite, and what an invitation still stands for when it is used: only an owner adds members, and
// nothing is made for anyone else; invitations are limited per inviter; an invited address is the person's
// to register; a confirm-first invitation is void once its inviter is no longer an owner of the home.
#include "support/mode_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace common::aliases;
using test::db_count;
using test::has_home;
using test::members_of;
using test::mode_fixture;

BOOST_AUTO_TEST_SUITE(members)

namespace {

std::size_t mode_user_count(mode_fixture& f)
{
    auto r = f.sim_call(http::verb::get, "/_sim/users");
    BOOST_REQUIRE_MESSAGE(r.status == 200U, r);
    return r.json().as_array().size();
}

int accounts_with(mode_fixture& f, const std::string& email)
{
    return db_count(f.db.url(), "SELECT count(*) FROM users WHERE email_normalized = $1", email);
}

std::string members_path(std::int64_t home)
{
    return "/v1/homes/" + std::to_string(home) + "/members";
}

// Sets a member's role directly in MODE (with the project key), as another owner could.
void set_role_in_mode(mode_fixture& f, std::int64_t home, std::int64_t mode_user, const std::string& role)
{
    auto r = f.project_call(http::verb::patch, "/homes/" + std::to_string(home) + "/members/" + std::to_string(mode_user),
                            json::serialize(json::object{{"role", role}}));
    BOOST_REQUIRE_MESSAGE(r.status == 204U, r);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_non_owner_creates_nothing, mode_fixture)
{
    auto [owner_email, owner] = user("owner");
    auto [friend_email, friend_token] = user("friend");
    auto [stranger_email, stranger] = user("stranger");
    auto home = create_home(owner, "Cellar");
    BOOST_TEST_REQUIRE(test::post_json(gw, members_path(home), {{"email", friend_email}}, owner).status == 201U);

    // A member and a stranger name an address nobody has: both are refused as MODE refuses them, and no
    // account, MODE user, membership or mail is made for it.
    auto victim = test::unique_email("victim");
    auto before = members_of(*this, owner, home);
    auto users_before = mode_user_count(*this);
    test::expect_problem(test::post_json(gw, members_path(home), {{"email", victim}}, friend_token), 403,
                         "MODE_PERMISSION_DENIED");
    test::expect_problem(test::post_json(gw, members_path(home), {{"email", victim}, {"role", "owner"}}, stranger),
                         403, "MODE_MEMBERS_ONLY");
    BOOST_TEST(accounts_with(*this, victim) == 0);
    BOOST_TEST(mode_user_count(*this) == users_before);
    BOOST_TEST(members_of(*this, owner, home) == before);

    // The address is free for its owner to register; the only mail it got is the confirmation.
    auto reg = test::post_json(gw, "/v1/auth/register",
                               {{"email", victim}, {"password", test::good_password}, {"name", "Vic"}});
    BOOST_TEST_REQUIRE(reg.status == 201U, reg);
    BOOST_TEST_REQUIRE(test::wait_for_mail(victim, "Confirm", std::chrono::seconds(15)).has_value());
    BOOST_TEST(test::mails_to(victim).size() == 1U);
}

BOOST_AUTO_TEST_CASE(invitations_are_limited_per_inviter)
{
    mode_fixture f(std::map<std::string, std::string>{{"MB_RATE_INVITATIONS_PER_USER", "2/1h"}});
    auto [owner_email, owner] = f.user("owner");
    auto [other_email, other] = f.user("other");
    auto home = f.create_home(owner);
    for (int i = 0; i < 2; ++i)
        BOOST_TEST(test::post_json(f.gw, members_path(home), {{"email", test::unique_email("guest")}}, owner).status ==
                   201U);

    // The third is refused before anything is made for it.
    auto third = test::unique_email("third");
    auto before = members_of(f, owner, home);
    auto users_before = mode_user_count(f);
    test::expect_rate_limited(test::post_json(f.gw, members_path(home), {{"email", third}}, owner), "third invitation");
    BOOST_TEST(accounts_with(f, third) == 0);
    BOOST_TEST(mode_user_count(f) == users_before);
    BOOST_TEST(members_of(f, owner, home) == before);

    // The limit is the inviter's: another owner still invites.
    auto theirs = f.create_home(other);
    BOOST_TEST(test::post_json(f.gw, members_path(theirs), {{"email", third}}, other).status == 201U);
}

BOOST_FIXTURE_TEST_CASE(registering_an_invited_address_claims_it, mode_fixture)
{
    auto [owner_email, owner] = user("owner");
    auto home = create_home(owner, "Boathouse");
    auto invitee = test::unique_email("claimant");
    auto added = test::post_json(gw, members_path(home), {{"email", invitee}}, owner);
    BOOST_TEST_REQUIRE(added.status == 201U, added);
    auto mode_user = added.json().at("userId").as_int64();

    // The person registers instead of following the invitation: no 409, and a link to finish is mailed.
    auto reg = test::post_json(gw, "/v1/auth/register",
                               {{"email", invitee}, {"password", test::good_password}, {"name", "Claire"}});
    BOOST_TEST_REQUIRE(reg.status == 201U, reg);
    BOOST_TEST(!reg.json().at("user").at("emailVerified").as_bool());
    // The password given at registration opens nothing: only the mailbox's owner claims the account.
    test::expect_problem(test::login(gw, invitee), 401, "INVALID_CREDENTIALS");
    auto finish = test::token_from_mail(invitee, "Finish creating your account");
    auto accepted = test::post_json(gw, "/v1/auth/accept-invite",
                                    {{"token", finish}, {"password", test::good_password}, {"name", "Claire"}});
    BOOST_TEST_REQUIRE(accepted.status == 200U, accepted);
    BOOST_TEST(accepted.json().at("user").at("emailVerified").as_bool());
    BOOST_TEST(accepted.json().at("user").at("name").as_string() == "Claire");
    auto login = test::login(gw, invitee);
    BOOST_TEST_REQUIRE(login.status == 200U, login);
    auto session = std::string(login.json().at("token").as_string());
    // The same account: its membership and its MODE user are kept.
    BOOST_TEST(has_home(*this, session, home));
    BOOST_TEST(mode_id(session) == mode_user);
    BOOST_TEST(accounts_with(*this, invitee) == 1);
    auto id = std::string(reg.json().at("user").at("id").as_string());
    BOOST_TEST(sim_call(http::verb::get, "/_sim/users?externalKey=" + id).json().as_array().size() == 1U);
    // Registered now: a second registration is refused as for any account.
    test::expect_problem(test::post_json(gw, "/v1/auth/register",
                                         {{"email", invitee}, {"password", test::good_password}, {"name", "C"}}),
                         409, "EMAIL_TAKEN");
}

BOOST_FIXTURE_TEST_CASE(a_stranger_who_registers_an_invited_address_gains_nothing, mode_fixture)
{
    auto [owner_email, owner] = user("owner");
    auto home = create_home(owner, "Lighthouse");
    auto invitee = test::unique_email("invitee");
    BOOST_TEST_REQUIRE(test::post_json(gw, members_path(home), {{"email", invitee}}, owner).status == 201U);
    auto invite = test::token_from_mail(invitee, "invited you");

    // A stranger registers the address with a password of their own, and keeps trying it.
    const std::string strangers = "the stranger's own password";
    BOOST_TEST_REQUIRE(test::post_json(gw, "/v1/auth/register",
                                       {{"email", invitee}, {"password", strangers}, {"name", "Mallory"}})
                           .status == 201U);
    test::expect_problem(test::login(gw, invitee, strangers), 401, "INVALID_CREDENTIALS");

    // The real person's invitation still works, with the password they choose; the stranger's still opens nothing.
    auto accepted = test::post_json(gw, "/v1/auth/accept-invite", {{"token", invite}, {"password", test::good_password}});
    BOOST_TEST_REQUIRE(accepted.status == 200U, accepted);
    BOOST_TEST(accepted.json().at("user").at("name").as_string() != "Mallory");
    test::expect_problem(test::login(gw, invitee, strangers), 401, "INVALID_CREDENTIALS");
    auto login = test::login(gw, invitee);
    BOOST_TEST_REQUIRE(login.status == 200U, login);
    BOOST_TEST(has_home(*this, std::string(login.json().at("token").as_string()), home));
    // The link mailed for the stranger's registration died with the claim.
    auto finish = test::token_from_mail(invitee, "Finish creating your account");
    test::expect_problem(test::post_json(gw, "/v1/auth/accept-invite", {{"token", finish}, {"password", strangers}}),
                         400, "INVALID_TOKEN");
}

BOOST_AUTO_TEST_CASE(an_invitation_is_void_once_its_inviter_is_no_owner)
{
    mode_fixture f(std::map<std::string, std::string>{{"MB_MEMBER_FLOW", "confirm-first"}});
    auto [owner_email, owner] = f.user("owner");
    auto [co_email, co_owner] = f.user("co");
    auto [friend_email, friend_token] = f.user("friend");
    auto home = f.create_home(owner, "Barn");
    auto co_added = f.project_call(http::verb::post, "/homes/" + std::to_string(home) + "/members",
                                   json::serialize(json::object{{"userId", f.mode_id(co_owner)}, {"role", "owner"}}));
    BOOST_TEST_REQUIRE(co_added.status == 201U, co_added);

    // Invitations of an existing user and of a newcomer, then the inviter is made a plain member.
    BOOST_TEST_REQUIRE(test::post_json(f.gw, members_path(home), {{"email", friend_email}}, owner).status == 202U);
    auto newcomer = test::unique_email("newcomer");
    BOOST_TEST_REQUIRE(test::post_json(f.gw, members_path(home), {{"email", newcomer}}, owner).status == 202U);
    auto token = test::token_from_mail(friend_email, "invited you");
    auto invite = test::token_from_mail(newcomer, "invited you");
    set_role_in_mode(f, home, f.mode_id(owner), "member");

    members_of(f, co_owner, home); // brings our rows in line with MODE, where the co-owner was added directly
    auto before = members_of(f, co_owner, home);
    test::expect_problem(test::post_json(f.gw, "/v1/invitations/accept", {{"token", token}}, friend_token), 409,
                         "INVITATION_VOID");
    BOOST_TEST(!has_home(f, friend_token, home));
    // The newcomer's account is theirs, but the home is not.
    auto joined = test::post_json(f.gw, "/v1/auth/accept-invite", {{"token", invite}, {"password", test::good_password}});
    BOOST_TEST_REQUIRE(joined.status == 200U, joined);
    BOOST_TEST(!has_home(f, std::string(joined.json().at("token").as_string()), home));
    BOOST_TEST(members_of(f, co_owner, home) == before);

    // Void for good: not even the inviter becoming an owner again revives it.
    set_role_in_mode(f, home, f.mode_id(owner), "owner");
    test::expect_problem(test::post_json(f.gw, "/v1/invitations/accept", {{"token", token}}, friend_token), 400,
                         "INVALID_TOKEN");
    BOOST_TEST(!has_home(f, friend_token, home));
}

BOOST_AUTO_TEST_SUITE_END()
