#include "mode/mode_linker.hpp"

#include "settings.hpp"

#include "common/client/http_client.hpp"
#include "common/db/pg_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(mode_linker)

namespace {

// The linker's pure parts need no database or MODE: nothing here connects.
gateway::settings test_settings()
{
    gateway::settings s;
    s.secret_key = std::string(32, 'k');
    s.mode_link_retry_min = std::chrono::milliseconds(1000);
    s.mode_link_retry_max = std::chrono::milliseconds(60'000);
    return s;
}

struct fixture
{
    gateway::settings cfg = test_settings();
    net::io_context ioc;
    common::db::pg_pool pool{[] {
        common::db::pool_options o;
        o.url = "postgresql://unused@127.0.0.1:1/none";
        o.size = 1;
        return o;
    }()};
    gateway::link_store links{pool};
    common::client::http_client http{ioc.get_executor()};
    common::mode::client mode{http, "http://127.0.0.1:1", std::chrono::seconds(1)};
    common::metrics::registry metrics;
    gateway::mode_linker linker{ioc.get_executor(), links, mode, cfg, metrics};
};

} // namespace

BOOST_FIXTURE_TEST_CASE(backoff_doubles_with_jitter_up_to_the_cap, fixture)
{
    for (int attempt = 0; attempt < 12; ++attempt) {
        long long nominal = std::min<long long>(1000LL << attempt, 60'000);
        for (int i = 0; i < 50; ++i) {
            auto d = linker.backoff(attempt).count();
            BOOST_TEST_CONTEXT("attempt " << attempt)
            {
                BOOST_TEST(d >= nominal / 2);
                BOOST_TEST(d <= nominal);
            }
        }
    }
    // Jitter: retries of many accounts after one outage do not all land at once.
    std::set<long long> seen;
    for (int i = 0; i < 50; ++i)
        seen.insert(linker.backoff(3).count());
    BOOST_TEST(seen.size() > 10U);
}

BOOST_FIXTURE_TEST_CASE(mode_keys_are_sealed_per_account, fixture)
{
    auto sealed = linker.seal_key("account-a", "the-mode-user-key");
    BOOST_TEST(sealed.find("the-mode-user-key") == std::string::npos);
    BOOST_TEST(linker.open_key("account-a", sealed).value_or("") == "the-mode-user-key");
    // Bound to the account: a sealed key copied to another row does not open.
    BOOST_TEST(!linker.open_key("account-b", sealed).has_value());
    BOOST_TEST(!linker.open_key("account-a", "not base64!").has_value());
    // Each seal differs (fresh nonce).
    BOOST_TEST(linker.seal_key("account-a", "k") != linker.seal_key("account-a", "k"));
}

BOOST_AUTO_TEST_SUITE_END()
