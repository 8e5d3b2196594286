// Registration and the MODE link, through the real gateway, PostgreSQL and the MODE emulator.
#include "support/deployment.hpp"
#include "support/http_call.hpp"
#include "support/services.hpp"
#include "support/slow_sender.hpp"
#include "support/stack.hpp"
#include "support/wait.hpp"

#include "common/crypto/crypto.hpp"
#include "common/crypto/keys.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(registration)

namespace {

const std::string good_password = "correct horse battery staple";

std::string body(const std::string& email, const std::string& password = good_password,
                 const std::string& name = "Ann Example")
{
    json::object o{{"email", email}, {"password", password}, {"name", name}};
    return json::serialize(o);
}

test::http_result register_user(const test::running_service& gw, const std::string& email)
{
    return test::http_call(gw.port, http::verb::post, "/v1/auth/register", body(email));
}

// The emulator's users whose externalKey is `user_id` (the gateway passes its account id).
json::array mode_users_for(const test::running_service& sim, const std::string& user_id)
{
    auto r = test::http_call(sim.port, http::verb::get, "/_sim/users?externalKey=" + user_id);
    BOOST_REQUIRE_EQUAL(r.status, 200U);
    return r.json().as_array();
}

std::size_t mode_user_count(const test::running_service& sim)
{
    return test::http_call(sim.port, http::verb::get, "/_sim/users").json().as_array().size();
}

void add_fault(const test::running_service& sim, json::object fault)
{
    auto r = test::http_call(sim.port, http::verb::post, "/_sim/faults", json::serialize(fault));
    BOOST_REQUIRE_EQUAL(r.status, 204U);
}

void clear_faults(const test::running_service& sim)
{
    BOOST_REQUIRE_EQUAL(test::http_call(sim.port, http::verb::delete_, "/_sim/faults").status, 204U);
}

// A session made directly in the store (login is step 2), returning its bearer token.
std::string make_session(const std::string& db_url, const std::string& user_id)
{
    auto token = common::crypto::random_token();
    pqxx::connection c(db_url);
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO sessions (user_id, token_hash, expires_at) VALUES ($1::uuid, $2, now() + interval '1 hour')",
                   user_id, common::crypto::sha256_hex(token));
    tx.commit();
    return token;
}

json::object me(const test::running_service& gw, const std::string& token)
{
    auto r = test::http_call(gw.port, http::verb::get, "/v1/me", {}, {{"Authorization", "Bearer " + token}});
    BOOST_REQUIRE_MESSAGE(r.status == 200U, r);
    return r.json().at("user").as_object();
}

// Polls GET /v1/me until the account is linked.
bool wait_linked(const test::running_service& gw, const std::string& token, std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (me(gw, token).at("mode").at("linked").as_bool())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

// How many more requests the emulator's faults will refuse (their counts summed; 0 when none is left).
std::int64_t fault_left(const test::running_service& sim)
{
    auto r = test::http_call(sim.port, http::verb::get, "/_sim/faults");
    BOOST_REQUIRE_EQUAL(r.status, 200U);
    std::int64_t left = 0;
    auto faults = r.json();
    for (const auto& f : faults.as_array())
        left += f.as_object().at("count").to_number<std::int64_t>();
    return left;
}

// The failed link attempts the store counts for the account, and the last one's error.
std::int64_t link_attempts(const std::string& db_url, const std::string& user_id)
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    return tx.exec_params1("SELECT mode_link_attempts FROM users WHERE id = $1::uuid", user_id)[0].as<std::int64_t>();
}

std::string link_last_error(const std::string& db_url, const std::string& user_id)
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    return tx.exec_params1("SELECT coalesce(mode_link_last_error, '') FROM users WHERE id = $1::uuid", user_id)[0]
        .as<std::string>();
}

struct fixture
{
    test::scratch_database db;
    test::running_service sim = test::start_mode_sim();
    test::running_service gw = test::start_gateway(db.url(), sim.base_url());
};

} // namespace

BOOST_FIXTURE_TEST_CASE(register_links_the_account_to_a_new_mode_user, fixture)
{
    auto r = register_user(gw, "Ann@Example.com");
    BOOST_TEST_REQUIRE(r.status == 201U, r);
    BOOST_TEST(r.header("Content-Type") == "application/json");
    auto user = r.json().at("user").as_object();
    BOOST_TEST(user.at("email").as_string() == "Ann@Example.com");
    BOOST_TEST(user.at("name").as_string() == "Ann Example");
    BOOST_TEST(user.at("emailVerified").as_bool() == false);
    BOOST_TEST(!user.at("createdAt").as_string().empty());
    BOOST_TEST(user.at("mode").at("linked").as_bool());
    auto mode_user_id = user.at("mode").at("userId").as_int64();

    // The MODE user exists in the emulator, created once, tied to this account.
    std::string id(user.at("id").as_string());
    auto mode_users = mode_users_for(sim, id);
    BOOST_REQUIRE_EQUAL(mode_users.size(), 1U);
    BOOST_TEST(mode_users[0].at("id").as_int64() == mode_user_id);

    // The stored key is sealed, and it is a working MODE user key for that user.
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    auto row = tx.exec_params1("SELECT password_hash, mode_user_key FROM users WHERE id = $1::uuid", id);
    BOOST_TEST(row[0].as<std::string>().rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0U);
    auto key = common::crypto::sealed_text(*common::crypto::base64_decode(gw.env.at("MB_SECRET_KEY")))
                   .open(row[1].as<std::string>(), id);
    BOOST_REQUIRE(key.has_value());
    auto session = test::http_call(sim.port, http::verb::get, "/userSession", {}, {{"Authorization", "ModeCloud " + *key}});
    BOOST_TEST(session.status == 200U, session);
    BOOST_TEST(session.json().at("userId").as_int64() == mode_user_id);

    // Neither the password nor the MODE key reached the logs.
    BOOST_TEST(gw.proc->output().find(good_password) == std::string::npos);
    BOOST_TEST(gw.proc->output().find(*key) == std::string::npos);

    // The account as GET /v1/me shows it.
    auto token = make_session(db.url(), id);
    auto shown = me(gw, token);
    BOOST_TEST(shown.at("id").as_string() == id);
    BOOST_TEST(shown.at("mode").at("userId").as_int64() == mode_user_id);
}

BOOST_FIXTURE_TEST_CASE(mode_outage_at_registration_links_later_with_exactly_one_mode_user, fixture)
{
    // MODE refuses every POST /users (a fault that outlasts the test, with a count to show the attempts).
    const std::int64_t refusals = 1000;
    add_fault(sim, {{"path", "/users"}, {"method", "POST"}, {"status", 503}, {"count", refusals}});
    auto r = register_user(gw, "bob@example.com");
    BOOST_TEST_REQUIRE(r.status == 201U, r);
    auto user = r.json().at("user").as_object();
    BOOST_TEST(user.at("mode").at("linked").as_bool() == false);
    BOOST_TEST(user.at("mode").at("userId").is_null());
    std::string id(user.at("id").as_string());
    BOOST_TEST(mode_users_for(sim, id).empty());

    // While MODE is down the linker keeps trying (and failing) without creating anything: the emulator
    // refused the inline attempt and at least two background retries, and the store counts them.
    const std::int64_t tries = 3;
    std::int64_t refused = 0;
    bool retried = test::eventually(
        [&] {
            refused = refusals - fault_left(sim);
            return refused >= tries;
        },
        std::chrono::seconds(20));
    BOOST_TEST_REQUIRE(retried, "MODE refused " << refused << " attempts in 20 s");
    BOOST_TEST_REQUIRE(test::eventually([&] { return link_attempts(db.url(), id) >= tries; }, std::chrono::seconds(10)));
    BOOST_TEST(mode_user_count(sim) == 0U);
    BOOST_TEST(link_last_error(db.url(), id).find("503") != std::string::npos, link_last_error(db.url(), id));

    clear_faults(sim);
    auto token = make_session(db.url(), id);
    BOOST_TEST_REQUIRE(wait_linked(gw, token, std::chrono::seconds(15)));
    BOOST_TEST(mode_users_for(sim, id).size() == 1U);
    BOOST_TEST(mode_user_count(sim) == 1U);
}

BOOST_FIXTURE_TEST_CASE(a_mode_user_created_before_a_failure_is_reused, fixture)
{
    // POST /users succeeds, POST /auth/user fails: the MODE user id must be kept and reused.
    add_fault(sim, {{"path", "/auth/user"}, {"method", "POST"}, {"status", 500}, {"count", 3}});
    auto r = register_user(gw, "carol@example.com");
    BOOST_TEST_REQUIRE(r.status == 201U, r);
    auto user = r.json().at("user").as_object();
    BOOST_TEST(user.at("mode").at("linked").as_bool() == false);
    BOOST_TEST_REQUIRE(user.at("mode").at("userId").is_int64());
    auto first_id = user.at("mode").at("userId").as_int64();
    std::string id(user.at("id").as_string());

    auto token = make_session(db.url(), id);
    BOOST_TEST_REQUIRE(wait_linked(gw, token, std::chrono::seconds(15)));
    BOOST_TEST(me(gw, token).at("mode").at("userId").as_int64() == first_id);
    // Linked on the fourth attempt: the three refusals were used up, each counted by the store, and
    // none of the retries created another MODE user.
    BOOST_TEST(fault_left(sim) == 0);
    BOOST_TEST(link_attempts(db.url(), id) == 3);
    BOOST_TEST(mode_user_count(sim) == 1U);
    BOOST_TEST(mode_users_for(sim, id).size() == 1U);
}

BOOST_FIXTURE_TEST_CASE(unreachable_mode_still_registers_quickly, fixture)
{
    sim.proc->kill();
    sim.proc->wait(std::chrono::seconds(5));
    auto r = register_user(gw, "dan@example.com");
    BOOST_TEST(r.status == 201U, r);
    BOOST_TEST(r.json().at("user").at("mode").at("linked").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(slow_mode_is_cut_off_at_the_link_timeout)
{
    const long long link_timeout_ms = 2000;
    test::deployment d({.gateway_env = {{"MB_MODE_LINK_TIMEOUT", "2000ms"}}});
    auto& gw = d.gw();
    // MODE holds POST /users for 60 s, longer than any deadline here; the gateway's own MODE call timeout
    // (MB_MODE_TIMEOUT, 10 s) is not what should end the wait either.
    add_fault(d.sim, {{"path", "/users"}, {"method", "POST"}, {"delayMs", 60000}, {"count", 1}});
    const auto start = std::chrono::steady_clock::now();
    auto r = test::http_call(gw.port, http::verb::post, "/v1/auth/register", body("erin@example.com"), {},
                             std::chrono::seconds(30));
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST_MESSAGE("registration answered after " << elapsed << " ms");
    BOOST_TEST(r.status == 201U, r);
    BOOST_TEST(r.json().at("user").at("mode").at("linked").as_bool() == false);
    // Answered at the link timeout: not before it (MODE never answered), and not at some later deadline.
    BOOST_TEST(elapsed >= link_timeout_ms / 2);
    BOOST_TEST(elapsed <= link_timeout_ms * 3);
    // The account waits for the background linker.
    std::string id(r.json().at("user").at("id").as_string());
    BOOST_TEST(link_attempts(d.db.url(), id) >= 1);
}

BOOST_AUTO_TEST_CASE(slow_request_bodies_are_cut_off_at_the_body_timeout)
{
    const long long body_timeout_ms = 3000;
    test::deployment d({.gateway_env = {{"MB_HEADER_TIMEOUT", "1000ms"}, {"MB_BODY_TIMEOUT", "3000ms"}}});
    auto& gw = d.gw();
    // Complete headers, then the body a byte every 100 ms: the connection is cut after the body timeout
    // (not the header timeout), however busy it is; the client would have waited 20 s.
    const std::string head = "POST /v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Content-Length: 1000\r\n\r\n{\"email\":\"";
    auto cut = test::send_slowly(gw.port, head, std::string(900, 'a'), std::chrono::milliseconds(100),
                                 std::chrono::seconds(20));
    BOOST_TEST_MESSAGE("slow body: " << cut.how << " after " << cut.after.count() << " ms, " << cut.trickled
                                     << " bytes trickled");
    BOOST_TEST(cut.closed, "the gateway held a slow body for " << cut.after.count() << " ms");
    BOOST_TEST(cut.after.count() >= body_timeout_ms / 2);
    BOOST_TEST(cut.after.count() <= body_timeout_ms * 3);
    BOOST_TEST(cut.received.find("HTTP/1.1 2") == std::string::npos, cut.received);
    // Nothing was registered, and the gateway goes on serving.
    BOOST_TEST(gw.proc->running());
    BOOST_TEST(register_user(gw, "after@example.com").status == 201U);
    pqxx::connection c(d.db.url());
    pqxx::read_transaction tx(c);
    BOOST_TEST(tx.exec1("SELECT count(*) FROM users")[0].as<int>() == 1);
}

BOOST_FIXTURE_TEST_CASE(bad_input_gets_precise_problems, fixture)
{
    struct bad_case
    {
        std::string name, body;
        unsigned status;
        std::string code;
    };
    std::vector<bad_case> cases{
        {"malformed JSON", R"({"email": "x@example.com", )", 400, "MALFORMED_JSON"},
        {"not an object", R"(["x@example.com"])", 400, "INVALID_REQUEST"},
        {"email missing", R"({"password":"long enough password","name":"X"})", 400, "INVALID_REQUEST"},
        {"email of the wrong type", R"({"email":42,"password":"long enough password","name":"X"})", 400,
         "INVALID_REQUEST"},
        {"invalid email", body("not-an-email"), 400, "INVALID_EMAIL"},
        {"email without domain dot", body("x@localhost"), 400, "INVALID_EMAIL"},
        {"short password", body("y@example.com", "elevenchars"), 400, "WEAK_PASSWORD"},
        {"long password", body("y@example.com", std::string(129, 'p')), 400, "WEAK_PASSWORD"},
        {"empty name", body("y@example.com", good_password, "  "), 400, "INVALID_REQUEST"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name)
        {
            auto r = test::http_call(gw.port, http::verb::post, "/v1/auth/register", c.body);
            BOOST_TEST(r.status == c.status, r);
            BOOST_TEST(r.header("Content-Type") == "application/problem+json");
            auto p = r.json().as_object();
            BOOST_TEST(p.at("code").as_string() == c.code);
            BOOST_TEST(p.at("status").as_int64() == c.status);
            BOOST_TEST(p.at("type").as_string() == "about:blank");
            BOOST_TEST(!p.at("title").as_string().empty());
            BOOST_TEST(!p.at("detail").as_string().empty());
        }
    }
    // Nothing was stored by any of them.
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    BOOST_TEST(tx.exec1("SELECT count(*) FROM users")[0].as<int>() == 0);
    // 128 characters (counted as characters, not bytes) is allowed.
    std::string max_password;
    for (int i = 0; i < 128; ++i)
        max_password += "é";
    auto ok = test::http_call(gw.port, http::verb::post, "/v1/auth/register", body("z@example.com", max_password));
    BOOST_TEST(ok.status == 201U, ok);
}

BOOST_FIXTURE_TEST_CASE(duplicate_email_is_409_regardless_of_case, fixture)
{
    BOOST_TEST_REQUIRE(register_user(gw, "frank@example.com").status == 201U);
    auto again = register_user(gw, "FRANK@example.COM");
    BOOST_TEST(again.status == 409U, again);
    BOOST_TEST(again.header("Content-Type") == "application/problem+json");
    BOOST_TEST(again.json().at("code").as_string() == "EMAIL_TAKEN");
    BOOST_TEST(mode_user_count(sim) == 1U);
}

BOOST_FIXTURE_TEST_CASE(me_requires_a_live_session, fixture)
{
    auto r = register_user(gw, "gina@example.com");
    BOOST_TEST_REQUIRE(r.status == 201U);
    std::string id(r.json().at("user").at("id").as_string());

    auto check_401 = [&](const test::header_list& headers) {
        auto res = test::http_call(gw.port, http::verb::get, "/v1/me", {}, headers);
        BOOST_TEST(res.status == 401U, res);
        BOOST_TEST(res.header("WWW-Authenticate") == "Bearer");
        BOOST_TEST(res.json().at("code").as_string() == "UNAUTHENTICATED");
    };
    check_401({});
    check_401({{"Authorization", "Bearer not-a-real-token"}});
    check_401({{"Authorization", "Basic Z2luYTpwYXNz"}});

    // A live session works; revoked and expired ones are refused. (Revocation through the API, which
    // also reaches cached sessions, is tested with the account flows.)
    auto token = make_session(db.url(), id);
    BOOST_TEST(me(gw, token).at("id").as_string() == id);
    auto revoked = make_session(db.url(), id);
    auto expired = make_session(db.url(), id);
    {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        tx.exec_params("UPDATE sessions SET revoked_at = now() WHERE token_hash = $1", common::crypto::sha256_hex(revoked));
        tx.exec_params("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
                       common::crypto::sha256_hex(expired));
        tx.commit();
    }
    check_401({{"Authorization", "Bearer " + revoked}});
    check_401({{"Authorization", "Bearer " + expired}});
}

BOOST_AUTO_TEST_SUITE_END()
