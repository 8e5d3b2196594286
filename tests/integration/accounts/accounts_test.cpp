// The accounts table of api.md, row by row, through the real gateway, SMTP sink, PostgreSQL and Redis.
#include "support/account_flow.hpp"
#include "support/metrics_probe.hpp"
#include "support/mode_fixture.hpp"
#include "support/stack.hpp"
#include "support/tcp_relay.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <thread>

using namespace common::aliases;
using test::good_password;

BOOST_AUTO_TEST_SUITE(accounts)

namespace {

using fixture = test::mode_fixture;

using test::expect_problem;

test::http_result login_from(const test::running_service& gw, const std::string& email, const std::string& user_agent)
{
    return test::http_call(gw.port, http::verb::post, "/v1/auth/login",
                           json::serialize(json::object{{"email", email}, {"password", good_password}}),
                           {{"User-Agent", user_agent}});
}

// A timestamp column as the API renders it (UTC, milliseconds), so the two compare as strings.
#define UTC_MS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/** lastSeenAt of session `id` in GET /v1/me/sessions, as seen by the holder of `bearer`. */
std::string last_seen_of(const test::running_service& gw, const std::string& bearer, const std::string& id)
{
    auto list = test::get_with(gw, "/v1/me/sessions", bearer);
    BOOST_REQUIRE_MESSAGE(list.status == 200U, list);
    auto all = list.json();
    for (const auto& s : all.as_array())
        if (s.at("id").as_string() == id)
            return std::string(s.at("lastSeenAt").as_string());
    BOOST_FAIL("session " << id << " not listed: " << list);
    return {};
}

using test::mails_with;

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

    // Log in twice, from two apps: two sessions; email compared case-insensitively.
    auto first = login_from(gw, email, "ann-phone/1.0");
    BOOST_TEST_REQUIRE(first.status == 200U, first);
    auto s1 = std::string(first.json().at("token").as_string());
    BOOST_TEST(!first.json().at("expiresAt").as_string().empty());
    BOOST_TEST(first.json().at("user").at("email").as_string() == email);
    std::string upper = email;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto second = login_from(gw, upper, "ann-laptop/2.0");
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

    // Each session as its app opened it: the User-Agent it sent, the address it came from (loopback here).
    auto list = test::get_with(gw, "/v1/me/sessions", s1);
    BOOST_TEST_REQUIRE(list.status == 200U, list);
    auto sessions = list.json().as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 2U);
    std::string other_id;
    int current = 0;
    for (const auto& s : sessions) {
        bool is_current = s.at("current").as_bool();
        if (is_current)
            ++current;
        else
            other_id = std::string(s.at("id").as_string());
        BOOST_TEST_CONTEXT("session " << s)
        {
            BOOST_TEST(s.at("userAgent").as_string() == (is_current ? "ann-phone/1.0" : "ann-laptop/2.0"));
            BOOST_TEST(s.at("ip").as_string() == "127.0.0.1");
            BOOST_TEST(!s.at("createdAt").as_string().empty());
            BOOST_TEST(!s.at("expiresAt").as_string().empty());
            BOOST_TEST(s.at("lastSeenAt").as_string() >= s.at("createdAt").as_string());
        }
    }
    BOOST_TEST(current == 1);

    // lastSeenAt moves forward when a session is used. Uses are recorded at most once a minute, so the
    // other session is made to look last used ten minutes ago, then used.
    const auto s2_hash = common::crypto::sha256_hex(s2);
    std::string backdated;
    std::string before_use;
    {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        backdated = tx.exec_params1("UPDATE sessions SET last_seen_at = now() - interval '10 minutes' "
                                    "WHERE token_hash = $1 RETURNING " UTC_MS("last_seen_at"),
                                    s2_hash)[0]
                        .as<std::string>();
        before_use = tx.exec1("SELECT " UTC_MS("now()"))[0].as<std::string>();
        tx.commit();
    }
    BOOST_TEST(last_seen_of(gw, s1, other_id) == backdated);
    BOOST_TEST_REQUIRE(test::get_with(gw, "/v1/me", s2).status == 200U); // not cached yet: read, then cached
    std::string moved = backdated;
    for (int i = 0; i < 100 && moved == backdated; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        moved = last_seen_of(gw, s1, other_id);
    }
    BOOST_TEST(moved > backdated);
    BOOST_TEST(moved >= before_use, "lastSeenAt " << moved << " is before the use at " << before_use);

    // The other session is in this instance's session cache now (a second use is answered from it)...
    auto hits = test::session_cache_hits(gw.port);
    BOOST_TEST_REQUIRE(test::get_with(gw, "/v1/me", s2).status == 200U);
    BOOST_TEST_REQUIRE(test::session_cache_hits(gw.port) == hits + 1);
    // ...and revoking it beats the cache: it stops working at once. Unknown ids are 404.
    auto del = test::http_call(gw.port, http::verb::delete_, "/v1/me/sessions/" + other_id, {},
                               {{"Authorization", "Bearer " + s1}});
    BOOST_TEST(del.status == 204U, del);
    BOOST_TEST_CONTEXT("GET /v1/me with the revoked session, cached a moment before")
    {
        expect_problem(test::get_with(gw, "/v1/me", s2), 401, "UNAUTHENTICATED");
    }
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
    // A verified account that never asked for a resend (so no cooldown stands in the way) and an
    // unverified one; each got the one verification mail of its registration.
    auto verified = test::unique_email("vera");
    test::verified_login(gw, verified);
    auto email = test::unique_email("carol");
    test::register_account(gw, email);
    BOOST_REQUIRE(test::wait_for_mail(email, "Confirm", std::chrono::seconds(15)).has_value());
    BOOST_TEST_REQUIRE(mails_with(verified, "Confirm") == 1U);
    BOOST_TEST_REQUIRE(mails_with(email, "Confirm") == 1U);

    // Unknown address, verified account, unverified account: 202 alike.
    auto ghost = test::unique_email("ghost");
    auto r = test::post_json(gw, "/v1/auth/resend-verification", {{"email", ghost}});
    BOOST_TEST(r.status == 202U, r);
    r = test::post_json(gw, "/v1/auth/resend-verification", {{"email", verified}});
    BOOST_TEST(r.status == 202U, r);
    r = test::post_json(gw, "/v1/auth/resend-verification", {{"email", email}});
    BOOST_TEST(r.status == 202U, r);

    // Mail is queued in the transaction that answers: the outbox holds one more verification mail for
    // the unverified account only.
    auto queued = [&](const std::string& rcpt) {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        return tx.exec_params1("SELECT count(*) FROM mail_outbox WHERE recipient = $1 AND kind = 'verify_email'", rcpt)[0]
            .as<int>();
    };
    BOOST_TEST(queued(email) == 2);
    BOOST_TEST(queued(verified) == 1);
    BOOST_TEST(queued(ghost) == 0);
    // And at the mail server: exactly one new mail for the unverified account. The verified account's
    // request came first, so a mail for it would have been sent by the time this one arrives.
    for (int i = 0; i < 150 && mails_with(email, "Confirm") < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST(mails_with(email, "Confirm") == 2U);
    BOOST_TEST(mails_with(verified, "Confirm") == 1U);
    BOOST_TEST(test::mails_to(verified).size() == 1U);
    BOOST_TEST(test::mails_to(ghost).empty());
    // The newest link works.
    auto token = test::token_from_mail(email, "Confirm");
    BOOST_TEST(test::post_json(gw, "/v1/auth/verify-email", {{"token", token}}).status == 200U);

    // A cooldown per address (the default: one mail a minute), for known and unknown addresses alike.
    auto again = test::post_json(gw, "/v1/auth/resend-verification", {{"email", email}});
    expect_problem(again, 429, "RATE_LIMITED");
    BOOST_TEST(std::stoi(again.header("Retry-After")) > 0);
    expect_problem(test::post_json(gw, "/v1/auth/resend-verification", {{"email", verified}}), 429, "RATE_LIMITED");
    expect_problem(test::post_json(gw, "/v1/auth/resend-verification", {{"email", ghost}}), 429, "RATE_LIMITED");
    BOOST_TEST(test::mails_to(ghost).empty());
    BOOST_TEST(mails_with(email, "Confirm") == 2U);
}

BOOST_FIXTURE_TEST_CASE(login_rehashes_a_password_hashed_with_other_argon2_parameters, fixture)
{
    // The parameters are the product's (m=19 MiB, t=2, p=1); an older hash made with others (here
    // m=8 MiB, t=1) is replaced on the next successful login.
    auto email = test::unique_email("rehash");
    test::verified_login(gw, email);
    auto stored = [&] {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        return tx.exec_params1("SELECT password_hash FROM users WHERE email_normalized = $1", email)[0].as<std::string>();
    };
    BOOST_TEST_REQUIRE(stored().rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0U, stored());
    const auto old_hash = common::crypto::argon2id_hash(good_password, {1, 8U * 1024U * 1024U});
    BOOST_TEST_REQUIRE(old_hash.rfind("$argon2id$v=19$m=8192,t=1,p=1$", 0) == 0U, old_hash);
    {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        tx.exec_params("UPDATE users SET password_hash = $2 WHERE email_normalized = $1", email, old_hash);
        tx.commit();
    }
    // A wrong password changes nothing.
    expect_problem(test::login(gw, email, "not the password at all"), 401, "INVALID_CREDENTIALS");
    BOOST_TEST_REQUIRE(stored() == old_hash);

    auto ok = test::login(gw, email);
    BOOST_TEST_REQUIRE(ok.status == 200U, ok);
    auto now_stored = stored();
    BOOST_TEST(now_stored != old_hash);
    BOOST_TEST(now_stored.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0U, now_stored);
    BOOST_TEST(common::crypto::argon2id_verify(now_stored, good_password));
    // The new hash works, and a login with current parameters leaves it as it is.
    BOOST_TEST(test::login(gw, email).status == 200U);
    BOOST_TEST(stored() == now_stored);
    expect_problem(test::login(gw, email, "not the password at all"), 401, "INVALID_CREDENTIALS");
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
