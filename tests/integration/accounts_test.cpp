// The accounts table of api.md, row by row, through the real gateway, SMTP sink, PostgreSQL and Redis.
#include "support/account_flow.hpp"
#include "support/stack.hpp"
#include "support/tcp_relay.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <thread>

using namespace common::aliases;
using test::good_password;

BOOST_AUTO_TEST_SUITE(accounts)

namespace {

struct fixture
{
    explicit fixture(std::map<std::string, std::string> extra = {})
        : gw(test::start_gateway(db.url(), sim.base_url(), std::move(extra)))
    {
    }
    test::scratch_database db;
    test::running_service sim = test::start_mode_sim();
    test::running_service gw;
};

void expect_problem(const test::http_result& r, unsigned status, const std::string& code)
{
    BOOST_TEST(r.status == status, r);
    BOOST_TEST(r.header("Content-Type") == "application/problem+json", r);
    if (r.header("Content-Type") == "application/problem+json")
        BOOST_TEST(r.json().at("code").as_string() == code, r);
}

std::size_t mails_with(const std::string& rcpt, const std::string& subject_part)
{
    std::size_t n = 0;
    for (const auto& m : test::mails_to(rcpt))
        n += m.subject().find(subject_part) != std::string::npos ? 1U : 0U;
    return n;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(register_verify_login_sessions_logout, fixture)
{
    auto email = test::unique_email("ann");
    test::register_account(gw, email);

    // The verification mail: plain text and HTML, with a link built from MB_PUBLIC_URL.
    auto mail = test::wait_for_mail(email, "Confirm", std::chrono::seconds(15));
    BOOST_REQUIRE(mail.has_value());
    BOOST_TEST(mail->text_body().find("http://app.example.test/verify-email?token=") != std::string::npos);
    BOOST_TEST(mail->raw.find("text/html") != std::string::npos);
    BOOST_TEST(mail->raw.find("text/plain") != std::string::npos);
    auto token = test::token_from_mail(email, "Confirm");
    BOOST_TEST(token.size() >= 43U); // 256 bits, base64url

    // Not verified yet: the right password gets 403, the wrong one 401.
    expect_problem(test::login(gw, email), 403, "EMAIL_NOT_VERIFIED");
    expect_problem(test::login(gw, email, "wrong password here"), 401, "INVALID_CREDENTIALS");

    auto v = test::post_json(gw, "/v1/auth/verify-email", {{"token", token}});
    BOOST_TEST_REQUIRE(v.status == 200U, v);
    BOOST_TEST(v.json().at("user").at("emailVerified").as_bool());
    // Single use.
    expect_problem(test::post_json(gw, "/v1/auth/verify-email", {{"token", token}}), 400, "INVALID_TOKEN");
    expect_problem(test::post_json(gw, "/v1/auth/verify-email", {{"token", "made-up-token-made-up-token-made-up-tok"}}),
                   400, "INVALID_TOKEN");

    // Log in twice: two sessions; email compared case-insensitively.
    auto first = test::login(gw, email);
    BOOST_TEST_REQUIRE(first.status == 200U, first);
    auto s1 = std::string(first.json().at("token").as_string());
    BOOST_TEST(!first.json().at("expiresAt").as_string().empty());
    BOOST_TEST(first.json().at("user").at("email").as_string() == email);
    std::string upper = email;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto second = test::login(gw, upper);
    BOOST_TEST_REQUIRE(second.status == 200U, second);
    auto s2 = std::string(second.json().at("token").as_string());
    BOOST_TEST(s1 != s2);

    // Tokens are stored hashed only.
    {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        BOOST_TEST(tx.exec_params1("SELECT count(*) FROM sessions WHERE token_hash = $1", s1)[0].as<int>() == 0);
        BOOST_TEST(tx.exec_params1("SELECT count(*) FROM sessions WHERE token_hash = $1",
                                   common::crypto::sha256_hex(s1))[0].as<int>() == 1);
        BOOST_TEST(tx.exec_params1("SELECT count(*) FROM account_tokens WHERE token_hash = $1", token)[0].as<int>() == 0);
    }

    auto me = test::get_with(gw, "/v1/me", s1);
    BOOST_TEST(me.status == 200U, me);
    BOOST_TEST(me.json().at("user").at("email").as_string() == email);

    auto list = test::get_with(gw, "/v1/me/sessions", s1);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    auto sessions = list.json().as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 2U);
    std::string other_id;
    int current = 0;
    for (const auto& s : sessions) {
        if (s.at("current").as_bool())
            ++current;
        else
            other_id = std::string(s.at("id").as_string());
        BOOST_TEST(!s.at("createdAt").as_string().empty());
        BOOST_TEST(!s.at("expiresAt").as_string().empty());
    }
    BOOST_TEST(current == 1);

    // Revoke the other session: it stops working at once; unknown ids are 404.
    auto del = test::http_call(gw.port, http::verb::delete_, "/v1/me/sessions/" + other_id, {},
                               {{"Authorization", "Bearer " + s1}});
    BOOST_TEST(del.status == 204U, del);
    expect_problem(test::get_with(gw, "/v1/me", s2), 401, "UNAUTHENTICATED");
    expect_problem(test::http_call(gw.port, http::verb::delete_, "/v1/me/sessions/" + other_id, {},
                                   {{"Authorization", "Bearer " + s1}}),
                   404, "NOT_FOUND");
    expect_problem(test::http_call(gw.port, http::verb::delete_, "/v1/me/sessions/not-a-uuid", {},
                                   {{"Authorization", "Bearer " + s1}}),
                   404, "NOT_FOUND");
    // Another user's session id is not found either.
    auto stranger = test::verified_login(gw, test::unique_email("stranger"));
    auto theirs = test::get_with(gw, "/v1/me/sessions", stranger).json().as_array();
    std::string their_id(theirs.at(0).at("id").as_string());
    expect_problem(test::http_call(gw.port, http::verb::delete_, "/v1/me/sessions/" + their_id, {},
                                   {{"Authorization", "Bearer " + s1}}),
                   404, "NOT_FOUND");
    BOOST_TEST(test::get_with(gw, "/v1/me", stranger).status == 200U);

    // Log out: the token stops working at once.
    auto out = test::post_json(gw, "/v1/auth/logout", {}, s1);
    BOOST_TEST(out.status == 204U, out);
    expect_problem(test::get_with(gw, "/v1/me", s1), 401, "UNAUTHENTICATED");
    auto again = test::post_json(gw, "/v1/auth/logout", {}, s1);
    expect_problem(again, 401, "UNAUTHENTICATED");
    BOOST_TEST(again.header("WWW-Authenticate") == "Bearer");
    expect_problem(test::get_with(gw, "/v1/me/sessions", s1), 401, "UNAUTHENTICATED");
    expect_problem(test::http_call(gw.port, http::verb::delete_, "/v1/me/sessions/" + other_id), 401, "UNAUTHENTICATED");
}

BOOST_FIXTURE_TEST_CASE(unknown_email_and_wrong_password_look_the_same, fixture)
{
    auto email = test::unique_email("bob");
    test::verified_login(gw, email);
    auto unknown = test::login(gw, test::unique_email("nobody"));
    auto wrong = test::login(gw, email, "not the right password");
    expect_problem(unknown, 401, "INVALID_CREDENTIALS");
    expect_problem(wrong, 401, "INVALID_CREDENTIALS");
    BOOST_TEST(unknown.json().at("detail") == wrong.json().at("detail"));
    BOOST_TEST(unknown.body.size() == wrong.body.size());
    // Bad input is a 400 before any credential check.
    expect_problem(test::post_json(gw, "/v1/auth/login", {{"email", email}}), 400, "INVALID_REQUEST");
    expect_problem(test::http_call(gw.port, http::verb::post, "/v1/auth/login", "{oops"), 400, "MALFORMED_JSON");
}

BOOST_FIXTURE_TEST_CASE(resend_verification_always_202_and_mails_only_the_unverified, fixture)
{
    auto email = test::unique_email("carol");
    test::register_account(gw, email);
    BOOST_REQUIRE(test::wait_for_mail(email, "Confirm", std::chrono::seconds(15)).has_value());

    // Unknown address: 202 and no mail.
    auto ghost = test::unique_email("ghost");
    auto r = test::post_json(gw, "/v1/auth/resend-verification", {{"email", ghost}});
    BOOST_TEST(r.status == 202U, r);

    r = test::post_json(gw, "/v1/auth/resend-verification", {{"email", email}});
    BOOST_TEST(r.status == 202U, r);
    BOOST_TEST_REQUIRE(test::wait_for_mail(email, [](const test::mail&) { return true; }, std::chrono::seconds(15))
                           .has_value());
    for (int i = 0; i < 100 && mails_with(email, "Confirm") < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST(mails_with(email, "Confirm") == 2U);
    // The newest link works.
    auto token = test::token_from_mail(email, "Confirm");
    BOOST_TEST(test::post_json(gw, "/v1/auth/verify-email", {{"token", token}}).status == 200U);

    // A cooldown per address (the default: one mail a minute), for known and unknown addresses alike.
    auto again = test::post_json(gw, "/v1/auth/resend-verification", {{"email", email}});
    expect_problem(again, 429, "RATE_LIMITED");
    BOOST_TEST(std::stoi(again.header("Retry-After")) > 0);
    expect_problem(test::post_json(gw, "/v1/auth/resend-verification", {{"email", ghost}}), 429, "RATE_LIMITED");
    BOOST_TEST(test::mails_to(ghost).empty());
}

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
    test::scratch_database db;
    auto sim = test::start_mode_sim();
    auto gw = test::start_gateway(db.url(), sim.base_url(), {{"MB_SMTP_URL", ""}});
    auto email = test::unique_email("logged");
    test::register_account(gw, email);
    BOOST_TEST(gw.proc->wait_for_output("\"mail.logged\"", std::chrono::seconds(10)));
    BOOST_TEST(gw.proc->output().find("verify-email?token=") != std::string::npos);
    BOOST_TEST(test::mails_to(email).empty());
}

BOOST_AUTO_TEST_CASE(a_database_that_stops_answering_is_a_503_and_logins_work_once_it_answers)
{
    test::scratch_database db;
    test::tcp_relay relay(db.url());
    auto sim = test::start_mode_sim();
    auto gw = test::start_gateway(relay.rewrite_url(db.url()), sim.base_url(), {{"MB_DB_TIMEOUT", "1s"}});
    auto email = test::unique_email("hung-db");
    test::verified_login(gw, email);

    relay.freeze();
    // Connections stay open and nothing answers: the gateway gives up within its deadline (far below
    // http_call's 10 s) instead of holding the request.
    expect_problem(test::login(gw, email), 503, "STORE_UNAVAILABLE");
    expect_problem(test::post_json(gw, "/v1/auth/register",
                                   {{"email", test::unique_email("hung-db")}, {"password", good_password}, {"name", "N"}}),
                   503, "STORE_UNAVAILABLE");
    BOOST_TEST(test::http_call(gw.port, http::verb::get, "/readyz").status == 503U);

    relay.thaw();
    test::http_result again;
    for (int i = 0; i < 8; ++i) {
        again = test::login(gw, email);
        if (again.status == 200U)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    BOOST_TEST(again.status == 200U, again);
    BOOST_TEST(gw.proc->running());
}

BOOST_AUTO_TEST_SUITE_END()
