// The links accounts are mailed (password reset, invitation) and what becomes of them: used once, void
// after a reset, refused once expired; without SMTP, written to the log. Same suite as accounts_test.cpp.
#include "support/account_flow.hpp"
#include "support/deployment.hpp"
#include "support/mode_fixture.hpp"
#include "support/stack.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

using namespace common::aliases;
using test::expect_problem;
using test::good_password;
using test::mails_with;
using fixture = test::mode_fixture;

BOOST_AUTO_TEST_SUITE(accounts)

BOOST_FIXTURE_TEST_CASE(forgot_and_reset_password, fixture)
{
    auto email = test::unique_email("dan");
    auto s1 = test::verified_login(gw, email);
    auto s2 = std::string(test::login(gw, email).json().at("token").as_string());

    auto ghost = test::unique_email("ghost");
    BOOST_TEST(test::post_json(gw, "/v1/auth/forgot-password", {{"email", ghost}}).status == 202U);
    BOOST_TEST(test::post_json(gw, "/v1/auth/forgot-password", {{"email", email}}).status == 202U);
    auto mail = test::wait_for_mail(email, "Reset", std::chrono::seconds(15));
    BOOST_REQUIRE(mail.has_value());
    BOOST_TEST(mail->text_body().find("http://app.example.test/reset-password?token=") != std::string::npos);
    auto token = test::token_from_mail(email, "Reset");
    expect_problem(test::post_json(gw, "/v1/auth/forgot-password", {{"email", email}}), 429, "RATE_LIMITED");

    // A weak password is refused without using the token up; a made-up token is refused.
    expect_problem(test::post_json(gw, "/v1/auth/reset-password", {{"token", token}, {"password", "short"}}), 400,
                   "WEAK_PASSWORD");
    // (Another first character: a random token starts with 'x' one time in 64.)
    auto made_up = std::string(token[0] == 'x' ? "y" : "x") + token.substr(1);
    expect_problem(test::post_json(gw, "/v1/auth/reset-password",
                                   {{"token", made_up}, {"password", "a brand new password"}}),
                   400, "INVALID_TOKEN");

    auto reset = test::post_json(gw, "/v1/auth/reset-password", {{"token", token}, {"password", "a brand new password"}});
    BOOST_TEST_REQUIRE(reset.status == 204U, reset);
    // Every session of the user is revoked, the old password is gone, the new one works.
    expect_problem(test::get_with(gw, "/v1/me", s1), 401, "UNAUTHENTICATED");
    expect_problem(test::get_with(gw, "/v1/me", s2), 401, "UNAUTHENTICATED");
    expect_problem(test::login(gw, email), 401, "INVALID_CREDENTIALS");
    BOOST_TEST(test::login(gw, email, "a brand new password").status == 200U);
    // Single use.
    expect_problem(test::post_json(gw, "/v1/auth/reset-password", {{"token", token}, {"password", "yet another password"}}),
                   400, "INVALID_TOKEN");
    BOOST_TEST(test::mails_to(ghost).empty());
}

BOOST_AUTO_TEST_CASE(a_reset_voids_every_other_reset_link_of_the_account)
{
    fixture f(std::map<std::string, std::string>{{"MB_RATE_RESET_MAILS", "10/1m"}});
    auto email = test::unique_email("rita");
    auto session = test::verified_login(f.gw, email);

    // Two reset mails, each with its own link.
    BOOST_TEST(test::post_json(f.gw, "/v1/auth/forgot-password", {{"email", email}}).status == 202U);
    BOOST_TEST(test::post_json(f.gw, "/v1/auth/forgot-password", {{"email", email}}).status == 202U);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (mails_with(email, "Reset") < 2U && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::vector<std::string> links;
    static const std::regex token_re("token=([A-Za-z0-9_-]+)");
    for (const auto& m : test::mails_to(email)) {
        if (m.subject().find("Reset") == std::string::npos)
            continue;
        auto body = m.text_body();
        std::smatch match;
        if (std::regex_search(body, match, token_re))
            links.push_back(match[1].str());
    }
    BOOST_REQUIRE_MESSAGE(links.size() == 2U, "reset links mailed: " << links.size());
    BOOST_REQUIRE(links[0] != links[1]);

    auto reset = test::post_json(f.gw, "/v1/auth/reset-password", {{"token", links[0]}, {"password", "a brand new password"}});
    BOOST_TEST_REQUIRE(reset.status == 204U, reset);
    // The other link is void now, and the password stays the one just set; sessions are revoked.
    expect_problem(test::post_json(f.gw, "/v1/auth/reset-password", {{"token", links[1]}, {"password", "an attacker password"}}),
                   400, "INVALID_TOKEN");
    expect_problem(test::login(f.gw, email, "an attacker password"), 401, "INVALID_CREDENTIALS");
    BOOST_TEST(test::login(f.gw, email, "a brand new password").status == 200U);
    expect_problem(test::get_with(f.gw, "/v1/me", session), 401, "UNAUTHENTICATED");
}

BOOST_FIXTURE_TEST_CASE(accept_invite_sets_password_verifies_and_logs_in, fixture)
{
    // Invitations are created by the add-member flow; here the store is given one directly.
    auto email = test::unique_email("invitee");
    auto invite = common::crypto::random_token(32);
    auto expired_invite = common::crypto::random_token(32);
    std::string id;
    {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        id = tx.exec_params1("INSERT INTO users (email, email_normalized, name, status) VALUES ($1, $1, 'Invitee', "
                             "'invited') RETURNING id::text",
                             email)[0]
                 .as<std::string>();
        tx.exec_params("INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2::uuid, "
                       "'invite', now() + interval '1 day')",
                       common::crypto::sha256_hex(invite), id);
        tx.exec_params("INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2::uuid, "
                       "'invite', now() - interval '1 second')",
                       common::crypto::sha256_hex(expired_invite), id);
        tx.commit();
    }
    // An invited account cannot log in before accepting.
    expect_problem(test::login(gw, email), 401, "INVALID_CREDENTIALS");
    expect_problem(test::post_json(gw, "/v1/auth/accept-invite", {{"token", invite}, {"password", "short"}}), 400,
                   "WEAK_PASSWORD");
    expect_problem(test::post_json(gw, "/v1/auth/accept-invite", {{"token", expired_invite}, {"password", good_password}}),
                   400, "INVALID_TOKEN");
    // A verification token is not an invitation.
    expect_problem(test::post_json(gw, "/v1/auth/verify-email", {{"token", invite}}), 400, "INVALID_TOKEN");

    auto ok = test::post_json(gw, "/v1/auth/accept-invite",
                              {{"token", invite}, {"password", good_password}, {"name", "Ivy Invitee"}});
    BOOST_TEST_REQUIRE(ok.status == 200U, ok);
    auto body = ok.json().as_object();
    BOOST_TEST(body.at("user").at("id").as_string() == id);
    BOOST_TEST(body.at("user").at("name").as_string() == "Ivy Invitee");
    BOOST_TEST(body.at("user").at("emailVerified").as_bool());
    auto session = std::string(body.at("token").as_string());
    BOOST_TEST(test::get_with(gw, "/v1/me", session).status == 200U);
    BOOST_TEST(test::login(gw, email).status == 200U);
    expect_problem(test::post_json(gw, "/v1/auth/accept-invite", {{"token", invite}, {"password", good_password}}), 400,
                   "INVALID_TOKEN");
}

BOOST_AUTO_TEST_CASE(expired_tokens_are_refused)
{
    fixture f({{"MB_VERIFY_TOKEN_TTL", "1s"}, {"MB_RESET_TOKEN_TTL", "1s"}});
    auto email = test::unique_email("erin");
    test::register_account(f.gw, email);
    auto verify = test::token_from_mail(email, "Confirm");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    expect_problem(test::post_json(f.gw, "/v1/auth/verify-email", {{"token", verify}}), 400, "INVALID_TOKEN");

    // Verify with a fresh one (resend), then a reset token that expires too.
    {
        pqxx::connection c(f.db.url());
        pqxx::work tx(c);
        tx.exec_params("UPDATE users SET email_verified_at = now() WHERE email_normalized = $1", email);
        tx.commit();
    }
    BOOST_TEST(test::post_json(f.gw, "/v1/auth/forgot-password", {{"email", email}}).status == 202U);
    auto reset = test::token_from_mail(email, "Reset");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    expect_problem(test::post_json(f.gw, "/v1/auth/reset-password", {{"token", reset}, {"password", "another long password"}}),
                   400, "INVALID_TOKEN");
}

BOOST_AUTO_TEST_CASE(without_smtp_mails_go_to_the_log)
{
    test::deployment d({.gateway_env = {{"MB_SMTP_URL", ""}}});
    auto& gw = d.gw();
    auto email = test::unique_email("logged");
    test::register_account(gw, email);
    BOOST_TEST(gw.proc->wait_for_output("\"mail.logged\"", std::chrono::seconds(10)));
    BOOST_TEST(gw.proc->output().find("verify-email?token=") != std::string::npos);
    BOOST_TEST(test::mails_to(email).empty());
}

BOOST_AUTO_TEST_SUITE_END()
