#include "support/principals.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace test {

namespace {

std::string members_path(std::int64_t home)
{
    return "/v1/homes/" + std::to_string(home) + "/members";
}

} // namespace

principal linked_user(mode_fixture& f, const std::string& name)
{
    auto [email, token] = f.user(name);
    return principal{name, email, token, f.mode_id(token)};
}

principals::principals(mode_fixture& f)
    : anonymous{"anonymous", "", "", 0}
    , stranger(linked_user(f, "stranger"))
    , removed_by_gateway(linked_user(f, "removed-by-gateway"))
    , removed_in_mode(linked_user(f, "removed-in-mode"))
    , member(linked_user(f, "member"))
    , owner(linked_user(f, "owner"))
{
    unverified.name = "unverified";
    unverified.email = unique_email("unverified");
    register_account(f.gw, unverified.email);
    // The one way to a session is refused, and leaves none behind: the account holds no token.
    auto refused = login(f.gw, unverified.email);
    expect_problem(refused, 403, "EMAIL_NOT_VERIFIED");
    BOOST_TEST_REQUIRE(!refused.json().as_object().contains("token"), refused);
    BOOST_TEST_REQUIRE(db_count(f.db.url(),
                                "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                                "WHERE u.email_normalized = lower($1)",
                                unverified.email) == 0);

    revoked.name = "revoked";
    revoked.email = owner.email;
    revoked.mode_user = owner.mode_user;
    revoked.token = another_session(f, owner.email).first;
    auto out = f.call(http::verb::post, "/v1/auth/logout", revoked.token);
    BOOST_TEST_REQUIRE(out.status == 204U, out);
}

std::vector<const principal*> principals::all() const
{
    return {&anonymous, &unverified, &revoked, &stranger, &removed_by_gateway, &removed_in_mode, &member, &owner};
}

void add_member(mode_fixture& f, const std::string& owner_token, std::int64_t home, const std::string& email)
{
    auto r = f.call(http::verb::post, members_path(home), owner_token,
                    json::serialize(json::object{{"email", email}, {"role", "member"}}));
    BOOST_TEST_REQUIRE(r.status == 201U, r);
}

void remove_in_mode(mode_fixture& f, std::int64_t home, std::int64_t mode_user)
{
    auto r = f.project_call(http::verb::delete_, "/homes/" + std::to_string(home) + "/members/" + std::to_string(mode_user));
    BOOST_TEST_REQUIRE(r.status == 204U, r);
}

std::int64_t shared_home(mode_fixture& f, const principals& p, const std::string& name)
{
    auto home = f.create_home(p.owner.token, name);
    auto history = "/v1/homes/" + std::to_string(home) + "/events";
    for (const auto* who : {&p.member, &p.removed_by_gateway, &p.removed_in_mode}) {
        add_member(f, p.owner.token, home, who->email);
        // A member who uses the home (lists their homes, reads its history): what the gateway keeps of
        // that must not outlive the membership.
        BOOST_TEST_REQUIRE(has_home(f, who->token, home));
        auto read = f.call(http::verb::get, history, who->token);
        BOOST_TEST_REQUIRE(read.status == 200U, read);
    }
    auto removed = f.call(http::verb::delete_, members_path(home) + "/" + std::to_string(p.removed_by_gateway.mode_user),
                          p.owner.token);
    BOOST_TEST_REQUIRE(removed.status == 204U, removed);
    // A removal made through the gateway holds at once, also for the history it serves from its own store.
    auto after = f.call(http::verb::get, history, p.removed_by_gateway.token);
    BOOST_TEST(after.status == 404U, "a member removed through the gateway still reads the home's history: " << after);
    remove_in_mode(f, home, p.removed_in_mode.mode_user);
    return home;
}

std::pair<std::string, std::string> another_session(mode_fixture& f, const std::string& email)
{
    auto l = login(f.gw, email);
    BOOST_TEST_REQUIRE(l.status == 200U, l);
    std::string token(l.json().at("token").as_string());
    auto list = f.call(http::verb::get, "/v1/me/sessions", token);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    auto sessions = list.json();
    for (const auto& s : sessions.as_array())
        if (s.at("current").as_bool())
            return {token, std::string(s.at("id").as_string())};
    BOOST_FAIL("GET /v1/me/sessions shows no current session: " << list.body);
    return {};
}

} // namespace test
