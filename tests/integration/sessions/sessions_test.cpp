// Session lifetimes and revocation across gateway instances (each with its own session cache).
#include "support/account_flow.hpp"
#include "support/deployment.hpp"
#include "support/metrics_probe.hpp"
#include "support/stack.hpp"
#include "support/tcp_relay.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <future>
#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(sessions)

namespace {

// Polls GET /v1/me until it answers `status`; false when it still does not after `limit`.
bool becomes(const test::running_service& gw, const std::string& token, unsigned status,
             std::chrono::milliseconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    do {
        if (test::get_with(gw, "/v1/me", token).status == status)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

} // namespace

BOOST_AUTO_TEST_CASE(revocations_reach_every_instance_despite_their_caches)
{
    // A long cache lifetime, so only the invalidation messages can explain a quick 401.
    test::deployment d({.gateways = 2, .gateway_env = {{"MB_SESSION_CACHE_TTL", "10m"}}});
    auto& a = d.gw(0);
    auto& b = d.gw(1);

    auto email = test::unique_email("multi");
    auto s1 = test::verified_login(a, email);
    auto s2 = std::string(test::login(a, email).json().at("token").as_string());
    auto s3 = std::string(test::login(a, email).json().at("token").as_string());
    // Warm B's cache with all three.
    for (const auto& s : {s1, s2, s3})
        BOOST_TEST_REQUIRE(test::get_with(b, "/v1/me", s).status == 200U);

    // Logout on A: B refuses the token (well before its 10-minute cache lifetime).
    BOOST_TEST(test::post_json(a, "/v1/auth/logout", {}, s1).status == 204U);
    BOOST_TEST(becomes(b, s1, 401, std::chrono::seconds(3)));
    BOOST_TEST(test::get_with(b, "/v1/me", s2).status == 200U);

    // Revoking one's own session from B: A refuses it too.
    auto list = test::get_with(b, "/v1/me/sessions", s2).json().as_array();
    std::string s3_id;
    for (const auto& s : list)
        if (!s.at("current").as_bool())
            s3_id = std::string(s.at("id").as_string());
    BOOST_TEST_REQUIRE(test::get_with(a, "/v1/me", s3).status == 200U);
    BOOST_TEST(test::http_call(b.port, http::verb::delete_, "/v1/me/sessions/" + s3_id, {},
                               {{"Authorization", "Bearer " + s2}})
                   .status == 204U);
    BOOST_TEST(becomes(a, s3, 401, std::chrono::seconds(3)));

    // A password reset through B revokes the remaining session on A.
    BOOST_TEST_REQUIRE(test::get_with(a, "/v1/me", s2).status == 200U);
    BOOST_TEST(test::post_json(b, "/v1/auth/forgot-password", {{"email", email}}).status == 202U);
    auto reset = test::token_from_mail(email, "Reset");
    BOOST_TEST(test::post_json(b, "/v1/auth/reset-password", {{"token", reset}, {"password", "the new password!"}})
                   .status == 204U);
    BOOST_TEST(becomes(a, s2, 401, std::chrono::seconds(3)));
}

BOOST_AUTO_TEST_CASE(a_cached_session_is_answered_without_the_database)
{
    test::scratch_database db;
    test::tcp_relay relay(db.url());
    auto sim = test::start_mode_sim();
    auto gw = test::start_gateway(relay.rewrite_url(db.url()), sim.base_url(),
                                  {{"MB_DB_TIMEOUT", "1s"}, {"MB_SESSION_CACHE_TTL", "10m"}});
    auto email = test::unique_email("cached");
    auto cached = test::verified_login(gw, email);
    auto uncached = std::string(test::login(gw, email).json().at("token").as_string());

    // The first use reads the session from PostgreSQL; the next ones are answered from the cache.
    const auto hits = test::session_cache_hits(gw.port);
    const auto misses = test::session_cache_misses(gw.port);
    BOOST_TEST_REQUIRE(test::get_with(gw, "/v1/me", cached).status == 200U);
    BOOST_TEST(test::session_cache_misses(gw.port) == misses + 1);
    BOOST_TEST(test::session_cache_hits(gw.port) == hits);
    for (int i = 0; i < 3; ++i)
        BOOST_TEST_REQUIRE(test::get_with(gw, "/v1/me", cached).status == 200U);
    BOOST_TEST(test::session_cache_hits(gw.port) == hits + 3);
    BOOST_TEST(test::session_cache_misses(gw.port) == misses + 1);

    // PostgreSQL stops answering (connections stay open, nothing comes back): the cached session still
    // works, while one that is not cached cannot be checked.
    relay.freeze();
    auto me = test::get_with(gw, "/v1/me", cached);
    BOOST_TEST(me.status == 200U, me);
    if (me.status == 200U)
        BOOST_TEST(me.json().at("user").at("email").as_string() == email);
    auto other = test::get_with(gw, "/v1/me", uncached);
    BOOST_TEST(other.status == 503U, other);
    if (other.status == 503U)
        BOOST_TEST(other.json().at("code").as_string() == "STORE_UNAVAILABLE");
    BOOST_TEST(test::session_cache_hits(gw.port) == hits + 4);
    BOOST_TEST(test::session_cache_misses(gw.port) == misses + 2);

    // Once it answers again, so does the other session.
    relay.thaw();
    BOOST_TEST(becomes(gw, uncached, 200, std::chrono::seconds(15)));
}

BOOST_AUTO_TEST_CASE(idle_sessions_expire)
{
    test::deployment d({.gateway_env = {{"MB_SESSION_IDLE_TIMEOUT", "2s"}}});
    auto& gw = d.gw();
    auto email = test::unique_email("idle");
    auto active = test::verified_login(gw, email);
    auto idle = std::string(test::login(gw, email).json().at("token").as_string());
    // Use one session every half second for 3 s; leave the other alone.
    for (int i = 0; i < 6; ++i) {
        BOOST_TEST(test::get_with(gw, "/v1/me", active).status == 200U);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    BOOST_TEST(test::get_with(gw, "/v1/me", active).status == 200U);
    BOOST_TEST(test::get_with(gw, "/v1/me", idle).status == 401U);
}

BOOST_AUTO_TEST_CASE(sessions_end_at_their_absolute_lifetime)
{
    test::deployment d({.gateway_env = {{"MB_SESSION_LIFETIME", "2s"}}});
    auto& gw = d.gw();
    auto token = test::verified_login(gw, test::unique_email("short"));
    BOOST_TEST(test::get_with(gw, "/v1/me", token).status == 200U);
    // In constant use, it still ends.
    BOOST_TEST(becomes(gw, token, 401, std::chrono::seconds(5)));
}

BOOST_AUTO_TEST_CASE(unknown_tokens_are_remembered_briefly_and_reach_the_database_once)
{
    test::deployment d({.gateways = 2});
    auto& a = d.gw(0);
    auto& b = d.gw(1);
    const auto made_up = common::crypto::random_token(32);

    const auto misses = test::session_cache_misses(a.port);
    for (int i = 0; i < 20; ++i) {
        auto r = test::get_with(a, "/v1/me", made_up);
        BOOST_TEST_REQUIRE(r.status == 401U, r);
        BOOST_TEST(r.json().at("code").as_string() == "UNAUTHENTICATED", r);
    }
    // One lookup in PostgreSQL; the other 19 are refused from memory.
    BOOST_TEST(test::session_cache_misses(a.port) == misses + 1);
    BOOST_TEST(test::metric_sample(a.port, "mb_session_cache_total{result=\"negative_hit\"}") == 19.0);

    // Tokens issued meanwhile, here or on another instance, work at once on both.
    auto email = test::unique_email("neg");
    auto on_b = test::verified_login(b, email);
    auto on_a = std::string(test::login(a, email).json().at("token").as_string());
    for (const auto& t : {on_a, on_b}) {
        BOOST_TEST(test::get_with(a, "/v1/me", t).status == 200U);
        BOOST_TEST(test::get_with(b, "/v1/me", t).status == 200U);
    }
    // A token that was valid once and is refused afterwards stays refused.
    BOOST_TEST(test::post_json(a, "/v1/auth/logout", {}, on_a).status == 204U);
    BOOST_TEST(becomes(a, on_a, 401, std::chrono::seconds(3)));
    BOOST_TEST(becomes(b, on_a, 401, std::chrono::seconds(3)));
}

BOOST_AUTO_TEST_CASE(a_session_revoked_during_another_instances_read_is_not_cached_there)
{
    test::scratch_database db;
    test::tcp_relay relay(db.url());
    auto sim = test::start_mode_sim();
    auto a = test::start_gateway(db.url(), sim.base_url());
    auto b = test::start_gateway(relay.rewrite_url(db.url()), sim.base_url(),
                                 {{"MB_DB_TIMEOUT", "60s"}, {"MB_SESSION_CACHE_TTL", "10m"}});
    auto email = test::unique_email("race");
    auto victim = test::verified_login(a, email);
    auto witness = std::string(test::login(a, email).json().at("token").as_string());
    // B caches the witness; the victim B has never seen.
    BOOST_TEST_REQUIRE(test::get_with(b, "/v1/me", witness).status == 200U);

    // B reads the victim's session: PostgreSQL answers "valid", but the answer is held on its way to B.
    relay.hold_replies_after(common::crypto::sha256_hex(victim));
    auto first = std::async(std::launch::async, [&] { return test::get_with(b, "/v1/me", victim); });
    pqxx::connection probe(db.url());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    auto read_done = [&] {
        pqxx::nontransaction q(probe);
        return q.exec("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                      "AND query LIKE '%s.token_hash = $1%'")[0][0].as<int>() == 1;
    };
    while (!(relay.trapped() && read_done()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    BOOST_TEST_REQUIRE(relay.trapped());
    BOOST_TEST_REQUIRE(read_done());

    // Meanwhile A revokes it, then the witness; once B refuses the witness, the victim's revocation
    // (published before it) has passed B too.
    BOOST_TEST(test::post_json(a, "/v1/auth/logout", {}, victim).status == 204U);
    BOOST_TEST(test::post_json(a, "/v1/auth/logout", {}, witness).status == 204U);
    BOOST_TEST_REQUIRE(becomes(b, witness, 401, std::chrono::seconds(5)));

    // B's read comes back (it began before the revocation: whatever it answers), and from then on
    // B refuses the victim: it did not keep the stale row.
    relay.release();
    auto stale = first.get();
    BOOST_TEST_MESSAGE("the request in flight during the revocation: " << stale.status);
    for (int i = 0; i < 3; ++i) {
        auto r = test::get_with(b, "/v1/me", victim);
        BOOST_TEST(r.status == 401U, r);
    }
}

BOOST_AUTO_TEST_SUITE_END()
