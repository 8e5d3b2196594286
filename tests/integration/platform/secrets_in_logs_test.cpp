// Secrets never reach the logs: real services at debug level, driven through the flows that handle each
// kind of secret, the failure paths included (refused tokens, the store down, MODE refusing), then every
// line either service wrote is searched for every secret value.
#include "support/live_deployment.hpp"
#include "support/tcp_relay.hpp"
#include "support/wait.hpp"
#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"
#include "common/crypto/keys.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <utility>
#include <vector>

using namespace common::aliases;

namespace {

std::string random_word(const std::string& prefix)
{
    return prefix + common::crypto::hex_encode(common::crypto::random_bytes(12));
}

// A counter or gauge without labels from the service's /metrics; -1 when absent.
double metric(const test::running_service& s, const std::string& name)
{
    auto body = test::http_call(s.port, http::verb::get, "/metrics").body;
    auto at = body.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(body.substr(at + name.size() + 2));
}

// What the test knows must stay secret, by kind.
struct secret_list
{
    std::vector<std::pair<std::string, std::string>> items;
    void add(const std::string& kind, const std::string& value)
    {
        BOOST_TEST_REQUIRE(value.size() >= 8U, kind << " is too short to search for");
        items.emplace_back(kind, value);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(secrets_in_logs)

BOOST_AUTO_TEST_CASE(no_secret_of_any_kind_appears_in_the_services_logs)
{
    secret_list secrets;
    test::scratch_database db;
    auto db_password = std::string(boost::urls::parse_uri(db.url()).value().password());
    secrets.add("the database password", db_password);
    const auto project_key = random_word("pk");
    const auto webhook_key = random_word("whk");
    const auto secret_key = test::random_secret_key();
    secrets.add("the MODE project key", project_key);
    secrets.add("the webhook signing key", webhook_key);
    secrets.add("MB_SECRET_KEY", secret_key);

    // Both services reach the store through relays that can hang; debug logs, where leaks hide best.
    test::tcp_relay gw_store(db.url());
    test::tcp_relay ingest_store(db.url());
    auto sim = test::start_mode_sim({{"MODESIM_PROJECT_KEY", project_key}, {"MODESIM_LOG_LEVEL", "warn"}});
    auto gw = test::start_gateway(gw_store.rewrite_url(db.url()), sim.base_url(),
                                  {{"MB_MODE_PROJECT_KEY", project_key},
                                   {"MB_SECRET_KEY", secret_key},
                                   {"MB_LOG_LEVEL", "debug"},
                                   {"MB_DB_TIMEOUT", "1s"}});
    auto ingest = test::start_ingest(ingest_store.rewrite_url(db.url()),
                                     {{"MB_WEBHOOK_KEY", webhook_key}, {"MB_LOG_LEVEL", "debug"}, {"MB_DB_TIMEOUT", "1s"}});
    // The users' MODE keys, as stored (sealed with MB_SECRET_KEY); each one seen is a secret.
    auto stored_keys = [&] {
        std::vector<std::string> keys;
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        common::crypto::sealed_text box(*common::crypto::base64_decode(secret_key));
        for (const auto& row : tx.exec("SELECT id::text, mode_user_key FROM users WHERE mode_user_key IS NOT NULL")) {
            auto key = box.open(row[1].as<std::string>(), row[0].as<std::string>());
            BOOST_TEST_REQUIRE(key.has_value());
            keys.push_back(*key);
        }
        return keys;
    };
    std::vector<std::string> known_keys;
    auto collect_keys = [&] {
        for (const auto& k : stored_keys())
            if (std::find(known_keys.begin(), known_keys.end(), k) == known_keys.end()) {
                known_keys.push_back(k);
                secrets.add("a MODE user key", k);
            }
        return known_keys.size();
    };
    auto post = [&](const std::string& path, const json::object& body, const std::string& bearer = {}) {
        return test::post_json(gw, path, body, bearer);
    };
    auto get = [&](const std::string& path, const std::string& bearer) { return test::get_with(gw, path, bearer); };

    // Registration, the verification token (used, then refused), a wrong password, then a session.
    const auto owner = test::unique_email("owner");
    const auto owner_password = random_word("Pw-");
    const auto wrong_password = random_word("Wrong-");
    secrets.add("a user's password", owner_password);
    secrets.add("a mistyped password", wrong_password);
    test::register_account(gw, owner, owner_password);
    auto verify_token = test::token_from_mail(owner, "Confirm");
    secrets.add("a verification token", verify_token);
    BOOST_TEST(post("/v1/auth/verify-email", {{"token", verify_token}}).status == 200U);
    BOOST_TEST(post("/v1/auth/verify-email", {{"token", verify_token}}).status == 400U);
    BOOST_TEST(test::login(gw, owner, wrong_password).status == 401U);
    auto first = test::login(gw, owner, owner_password);
    BOOST_TEST_REQUIRE(first.status == 200U, first);
    auto owner_session = std::string(first.json().at("token").as_string());
    secrets.add("a session token", owner_session);

    // Bearer headers and access_token query parameters, through MODE with the user's own key.
    BOOST_TEST(get("/v1/me", owner_session).status == 200U);
    auto home_made = post("/v1/homes", {{"name", "Vault"}}, owner_session);
    BOOST_TEST_REQUIRE(home_made.status == 201U, home_made);
    auto home = home_made.json().at("id").as_int64();
    BOOST_TEST_REQUIRE(collect_keys() == 1U); // the owner's
    BOOST_TEST(get("/v1/homes", owner_session).status == 200U);
    {
        test::ws_client ws(gw.port, "/v1/events?access_token=" + owner_session);
        BOOST_TEST(live::until_ready(ws).empty());
    }

    // The reset token: refused with a weak password, used, then refused again.
    BOOST_TEST(post("/v1/auth/forgot-password", {{"email", owner}}).status == 202U);
    auto reset_token = test::token_from_mail(owner, "Reset");
    secrets.add("a reset token", reset_token);
    const auto new_password = random_word("NewPw-");
    secrets.add("a user's new password", new_password);
    BOOST_TEST(post("/v1/auth/reset-password", {{"token", reset_token}, {"password", "short"}}).status == 400U);
    BOOST_TEST(post("/v1/auth/reset-password", {{"token", reset_token}, {"password", new_password}}).status == 204U);
    BOOST_TEST(post("/v1/auth/reset-password", {{"token", reset_token}, {"password", new_password}}).status == 400U);
    auto second = test::login(gw, owner, new_password);
    BOOST_TEST_REQUIRE(second.status == 200U, second);
    auto owner_session2 = std::string(second.json().at("token").as_string());
    secrets.add("a session token after a reset", owner_session2);
    // The reset ended the earlier session: refused in a header and in a query parameter.
    BOOST_TEST(get("/v1/me", owner_session).status == 401U);
    {
        test::ws_client ws(gw.port, "/v1/events?access_token=" + owner_session);
        BOOST_TEST(ws.wait_closed());
        BOOST_TEST(ws.closed_with().value_or(0) == 4001);
    }

    // An invitation token: an unknown address added to the home, refused with a weak password, accepted,
    // refused again.
    const auto invitee = test::unique_email("invitee");
    auto added = post("/v1/homes/" + std::to_string(home) + "/members", {{"email", invitee}}, owner_session2);
    BOOST_TEST_REQUIRE(added.status == 201U, added);
    auto invite_token = test::token_from_mail(invitee, "invited you");
    secrets.add("an invitation token", invite_token);
    const auto invitee_password = random_word("InvPw-");
    secrets.add("an invitee's password", invitee_password);
    BOOST_TEST(post("/v1/auth/accept-invite", {{"token", invite_token}, {"password", "short"}}).status == 400U);
    auto accepted = post("/v1/auth/accept-invite", {{"token", invite_token}, {"password", invitee_password}});
    BOOST_TEST_REQUIRE(accepted.status == 200U, accepted);
    auto invitee_session = std::string(accepted.json().at("token").as_string());
    secrets.add("an invitee's session token", invitee_session);
    BOOST_TEST(post("/v1/auth/accept-invite", {{"token", invite_token}, {"password", invitee_password}}).status == 400U);
    BOOST_TEST(get("/v1/homes", invitee_session).status == 200U);
    BOOST_TEST_REQUIRE(collect_keys() == 2U); // and the invitee's

    // MODE refusing: the link of a new account fails (project key) until the fault is gone; a user key
    // is refused, then revoked.
    auto sim_fault = [&](json::object f) {
        auto r = test::http_call(sim.port, http::verb::post, "/_sim/faults", json::serialize(f));
        BOOST_TEST_REQUIRE(r.status == 204U, r);
    };
    json::object users_down;
    users_down["path"] = "/users";
    users_down["method"] = "POST";
    users_down["status"] = 503;
    sim_fault(users_down);
    const auto late = test::unique_email("late");
    const auto late_password = random_word("LatePw-");
    secrets.add("a password at a failed MODE link", late_password);
    test::register_account(gw, late, late_password);
    BOOST_TEST(test::eventually([&] { return metric(gw, "mb_mode_link_failures_total") >= 2.0; }, std::chrono::seconds(20)),
               "the MODE link did not fail");
    const auto links = metric(gw, "mb_mode_links_total");
    BOOST_TEST_REQUIRE(test::http_call(sim.port, http::verb::delete_, "/_sim/faults").status == 204U);
    BOOST_TEST(test::eventually([&] { return metric(gw, "mb_mode_links_total") > links; }, std::chrono::seconds(20)),
               "the account was not linked once MODE answered");
    BOOST_TEST_REQUIRE(collect_keys() == 3U); // and the late one's
    json::object key_refused;
    key_refused["path"] = "/homes";
    key_refused["method"] = "GET";
    key_refused["status"] = 401;
    key_refused["reason"] = "UNAUTHENTICATED_CLIENT";
    key_refused["count"] = 1;
    sim_fault(key_refused);
    (void)get("/v1/homes", owner_session2);
    // Every key stored now revoked in MODE: the gateway meets keys that no longer work.
    for (const auto& k : stored_keys()) {
        auto revoked =
            test::http_call(sim.port, http::verb::delete_, "/userSession", {}, {{"Authorization", "ModeCloud " + k}});
        BOOST_TEST(revoked.status == 204U, revoked);
    }
    (void)get("/v1/homes", owner_session2);
    (void)get("/v1/homes", invitee_session);
    (void)get("/v1/homes/" + std::to_string(home), owner_session2);
    collect_keys(); // keys made anew

    // The store down: requests carrying passwords and tokens meet a hung PostgreSQL.
    gw_store.freeze();
    BOOST_TEST(test::login(gw, owner, new_password).status == 503U);
    const auto stranded = random_word("StrandedPw-");
    secrets.add("a password sent while the store was down", stranded);
    BOOST_TEST(test::post_json(gw, "/v1/auth/register",
                               {{"email", test::unique_email("stranded")}, {"password", stranded}, {"name", "S"}})
                   .status == 503U);
    (void)get("/v1/me", invitee_session);
    (void)post("/v1/auth/logout", {}, invitee_session);
    {
        test::ws_client ws(gw.port, "/v1/events?access_token=" + owner_session2);
        (void)ws.wait_closed(std::chrono::seconds(10));
    }
    gw_store.thaw();
    BOOST_TEST(test::eventually(
        [&] { return test::http_call(gw.port, http::verb::get, "/readyz").status == 200U; }, std::chrono::seconds(30)));
    BOOST_TEST(post("/v1/auth/logout", {}, owner_session2).status == 204U);

    // The ingest: a signed event, a forged one, and a signed one while its store hangs.
    auto event = json::serialize(json::object{{"homeId", home}, {"eventType", "reading"}, {"eventData", {{"n", 1}}}});
    BOOST_TEST(test::post_signed_event(ingest, event, webhook_key).status == 204U);
    BOOST_TEST(test::post_signed_event(ingest, event, "not-the-key").status == 401U);
    ingest_store.freeze();
    auto event2 = json::serialize(json::object{{"homeId", home}, {"eventType", "reading"}, {"eventData", {{"n", 2}}}});
    BOOST_TEST(test::post_signed_event(ingest, event2, webhook_key, test::webhook_url, {}, std::chrono::seconds(30))
                   .status == 503U);
    ingest_store.thaw();

    // A gateway whose database refuses connections, with the real password in its URL.
    boost::urls::url dead(boost::urls::parse_uri(db.url()).value());
    dead.set_port_number(test::free_port());
    auto dead_gw = test::start_gateway(std::string(dead.buffer()), sim.base_url(),
                                       {{"MB_MODE_PROJECT_KEY", project_key},
                                        {"MB_SECRET_KEY", secret_key},
                                        {"MB_LOG_LEVEL", "debug"},
                                        {"MB_DB_TIMEOUT", "1s"}},
                                       false);
    BOOST_REQUIRE(test::wait_for_port(dead_gw.port, std::chrono::seconds(20)));
    BOOST_TEST(test::post_json(dead_gw, "/v1/auth/login", {{"email", owner}, {"password", new_password}}).status == 503U);
    BOOST_TEST(test::http_call(dead_gw.port, http::verb::get, "/readyz").status == 503U);

    collect_keys();
    // The complete logs: every process stopped first.
    struct log_of
    {
        std::string name;
        test::running_service* s;
    };
    std::vector<log_of> logs{{"gateway", &gw}, {"webhook-ingest", &ingest}, {"gateway without a database", &dead_gw}};
    for (auto& l : logs) {
        l.s->proc->terminate();
        BOOST_TEST(l.s->proc->wait(std::chrono::seconds(30)).has_value(), l.name << " did not stop");
    }
    // The logs hold the requests driven above, and the failures they met.
    BOOST_TEST(gw.proc->output().find("\"level\":\"warn\"") != std::string::npos);
    BOOST_TEST(ingest.proc->output().find("\"level\":\"warn\"") != std::string::npos);
    BOOST_TEST(dead_gw.proc->output().find("\"level\":\"warn\"") != std::string::npos);
    BOOST_TEST(gw.proc->output().find("/v1/auth/reset-password") != std::string::npos);
    BOOST_TEST(gw.proc->output().find("/v1/events") != std::string::npos);
    BOOST_TEST(ingest.proc->output().find("/v1/mode/events") != std::string::npos);
    for (const auto& l : logs) {
        auto text = l.s->proc->output();
        for (const auto& [kind, value] : secrets.items)
            BOOST_TEST(text.find(value) == std::string::npos,
                       kind << " appears in the " << l.name << " log:\n"
                            << text.substr(text.rfind('\n', text.find(value)) + 1, 400));
    }
}

BOOST_AUTO_TEST_SUITE_END()
