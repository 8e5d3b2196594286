// Text the gateway cannot store or pass on safely (U+0000, line breaks that would reach mail headers):
// refused at every entry with a clear 400, never a 500 or a malformed mail.
#include "support/account_flow.hpp"
#include "support/mode_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <chrono>
#include <string>
#include <vector>

using namespace common::aliases;
using test::expect_problem;
using test::mode_fixture;

BOOST_AUTO_TEST_SUITE(text_input)

// PostgreSQL text cannot hold U+0000 and no field has a use for it: every text field of every route
// refuses it with a 400 naming the field, never a 500, and the gateway goes on serving.
BOOST_FIXTURE_TEST_CASE(nul_in_any_text_field_is_a_400, mode_fixture)
{
    auto [email, token] = user("nul");
    auto home = create_home(token);
    auto h = "/v1/homes/" + std::to_string(home);
    struct input
    {
        http::verb method;
        std::string path;
        std::string body;
        bool authed;
    };
    const std::vector<input> inputs = {
        {http::verb::post, "/v1/auth/register", R"({"email":"a\u0000@example.com","password":"long enough pass","name":"A"})", false},
        {http::verb::post, "/v1/auth/register", R"({"email":"nul-name@example.com","password":"long enough pass","name":"A\u0000B"})", false},
        {http::verb::post, "/v1/auth/register", R"({"email":"nul-pass@example.com","password":"long enough\u0000pass","name":"A"})", false},
        {http::verb::post, "/v1/auth/login", R"({"email":")" + email + R"(","password":"x\u0000"})", false},
        {http::verb::post, "/v1/auth/forgot-password", R"({"email":"x\u0000@example.com"})", false},
        {http::verb::post, "/v1/auth/resend-verification", R"({"email":"x\u0000@example.com"})", false},
        {http::verb::post, "/v1/auth/verify-email", R"({"token":"abc\u0000"})", false},
        {http::verb::post, "/v1/auth/reset-password", R"({"token":"abc\u0000","password":"long enough pass"})", false},
        {http::verb::post, "/v1/auth/accept-invite", R"({"token":"abc","password":"long enough pass","name":"\u0000"})", false},
        {http::verb::post, "/v1/homes", R"({"name":"Beach\u0000house"})", true},
        {http::verb::patch, h, R"({"name":"Beach\u0000house"})", true},
        {http::verb::post, h + "/members", R"({"email":"friend\u0000@example.com"})", true},
        {http::verb::post, h + "/members", R"({"email":"friend@example.com","role":"member\u0000"})", true},
        {http::verb::post, h + "/devices", R"({"claimCode":"AB\u0000CD"})", true},
        {http::verb::patch, "/v1/devices/1", R"({"name":"Lamp\u0000"})", true},
        {http::verb::patch, "/v1/devices/1", R"({"tag":"t\u0000"})", true},
        {http::verb::put, "/v1/devices/1/command", R"({"action":"on\u0000"})", true},
        {http::verb::put, "/v1/devices/1/command", R"({"action":"set","parameters":{"mode":["eco","x\u0000"]}})", true},
        {http::verb::post, "/v1/invitations/accept", R"({"token":"\u0000"})", true},
    };
    for (const auto& in : inputs) {
        BOOST_TEST_CONTEXT(in.path << " " << in.body)
        {
            expect_problem(call(in.method, in.path, in.authed ? token : std::string(), in.body), 400, "INVALID_REQUEST");
        }
    }
    // Nothing half-made, and the gateway still answers.
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    BOOST_TEST(tx.exec1("SELECT count(*) FROM users WHERE email_normalized IN ('nul-name@example.com', 'nul-pass@example.com')")[0].as<int>() == 0);
    BOOST_TEST(call(http::verb::get, h, token).status == 200U);
}

// A home name cannot carry a line break into a mail header: refused at input; and a name with one
// that is already in MODE (set there directly) gives a well-formed invitation whose outbox row ends
// as sent, not retried forever.
BOOST_FIXTURE_TEST_CASE(line_breaks_in_a_home_name_never_reach_a_mail_header, mode_fixture)
{
    auto [owner_email, owner] = user("crlf-owner");
    expect_problem(call(http::verb::post, "/v1/homes", owner, json::serialize(json::object{{"name", "Lake\r\nBcc: victim@example.com"}})), 400,
                   "INVALID_REQUEST");
    expect_problem(call(http::verb::post, "/v1/homes", owner, json::serialize(json::object{{"name", "Lake\nhouse"}})), 400, "INVALID_REQUEST");
    auto home = create_home(owner, "Lake house");
    auto h = "/v1/homes/" + std::to_string(home);
    expect_problem(call(http::verb::patch, h, owner, json::serialize(json::object{{"name", "Lake\r\nX-Injected: yes"}})), 400, "INVALID_REQUEST");

    // Renamed in MODE behind our back.
    auto renamed = sim_call(http::verb::patch, "/homes/" + std::to_string(home), json::serialize(json::object{{"name", "Lake\r\nBcc: victim@example.com"}}),
                            {{"Authorization", "ModeCloud " + stored_mode_key(owner_email)}});
    BOOST_TEST_REQUIRE(renamed.status < 300U, renamed);

    auto invitee = test::unique_email("crlf-invitee");
    auto added = call(http::verb::post, h + "/members", owner, json::serialize(json::object{{"email", invitee}}));
    BOOST_TEST_REQUIRE(added.status < 300U, added);
    auto mail = test::wait_for_mail(invitee, "invited you", std::chrono::seconds(15));
    BOOST_TEST_REQUIRE(mail.has_value());
    BOOST_TEST(mail->header("Bcc").empty(), mail->raw);
    BOOST_TEST(mail->subject().find("Lake  Bcc: victim@example.com") != std::string::npos, mail->raw);
    BOOST_TEST(test::mails_to("victim@example.com").empty());

    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    auto row = tx.exec_params1("SELECT sent_at IS NOT NULL, failed_at IS NULL, attempts FROM mail_outbox WHERE recipient = $1",
                               invitee);
    BOOST_TEST(row[0].as<bool>());
    BOOST_TEST(row[1].as<bool>());
}

BOOST_AUTO_TEST_SUITE_END()
