#include "sessions/session_cache.hpp"

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(session_cache)

namespace {

gateway::session_row row(const std::string& id, const std::string& user)
{
    gateway::session_row r;
    r.id = id;
    r.user.id = user;
    r.expires_at_ms = 1;
    r.last_seen_ms = 1;
    return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(serves_only_while_trusted)
{
    gateway::session_cache c(100, std::chrono::seconds(30));
    c.put("h1", row("s1", "u1"), c.generation());
    BOOST_TEST(!c.get("h1").has_value()); // untrusted: nothing stored, nothing served
    c.set_trusted(true);
    c.put("h1", row("s1", "u1"), c.generation());
    BOOST_TEST(c.get("h1").value().id == "s1");
    c.set_trusted(false);
    BOOST_TEST(!c.get("h1").has_value());
}

BOOST_AUTO_TEST_CASE(entries_expire_after_max_age)
{
    gateway::session_cache c(100, std::chrono::seconds(30));
    c.set_trusted(true);
    auto t0 = gateway::session_cache::clock::now();
    c.put("h1", row("s1", "u1"), c.generation(), t0);
    BOOST_TEST(c.get("h1", t0 + std::chrono::seconds(29)).has_value());
    BOOST_TEST(!c.get("h1", t0 + std::chrono::seconds(31)).has_value());
}

BOOST_AUTO_TEST_CASE(evicts_by_session_and_by_user)
{
    gateway::session_cache c(100, std::chrono::seconds(30));
    c.set_trusted(true);
    c.put("h1", row("s1", "u1"), c.generation());
    c.put("h2", row("s2", "u1"), c.generation());
    c.put("h3", row("s3", "u2"), c.generation());
    c.evict_session("s1");
    BOOST_TEST(!c.get("h1").has_value());
    BOOST_TEST(c.get("h2").has_value());
    c.evict_user("u1");
    BOOST_TEST(!c.get("h2").has_value());
    BOOST_TEST(c.get("h3").has_value());
    c.clear();
    BOOST_TEST(c.size() == 0U);
}

BOOST_AUTO_TEST_CASE(stays_within_its_size)
{
    gateway::session_cache c(64, std::chrono::seconds(30));
    c.set_trusted(true);
    for (int i = 0; i < 10'000; ++i)
        c.put("h" + std::to_string(i), row("s" + std::to_string(i), "u"), c.generation());
    BOOST_TEST(c.size() <= 64U);
    BOOST_TEST(c.get("h9999").has_value()); // the newest stays
}

BOOST_AUTO_TEST_CASE(a_row_read_before_an_eviction_is_not_cached)
{
    gateway::session_cache c(64, std::chrono::seconds(30));
    c.set_trusted(true);
    auto before = c.generation();
    c.evict_session("s1"); // a revocation passes while the row is being read
    c.put("h1", row("s1", "u1"), before);
    BOOST_TEST(!c.get("h1").has_value());
    c.put("h1", row("s1", "u1"), c.generation());
    BOOST_TEST(c.get("h1").has_value());
}

BOOST_AUTO_TEST_CASE(unknown_tokens_are_remembered_for_a_few_seconds)
{
    gateway::session_cache c(64, std::chrono::seconds(30));
    auto t0 = gateway::session_cache::clock::now();
    BOOST_TEST(!c.known_unknown("h1", t0));
    c.put_unknown("h1", t0);
    BOOST_TEST(c.known_unknown("h1", t0 + std::chrono::seconds(1)));
    BOOST_TEST(!c.known_unknown("h1", t0 + gateway::session_cache::negative_ttl));
    for (int i = 0; i < 10'000; ++i)
        c.put_unknown("n" + std::to_string(i), t0);
    BOOST_TEST(c.known_unknown("n9999", t0)); // bounded, and the newest stays
}

BOOST_AUTO_TEST_SUITE_END()
