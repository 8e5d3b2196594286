#include "app.hpp"

#include <boost/test/unit_test.hpp>

#include <map>

using namespace modesim;

namespace {

common::config::env env_of(std::map<std::string, std::string> vars)
{
    return common::config::env([vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    });
}

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_settings)

BOOST_AUTO_TEST_CASE(defaults_follow_mode_api_md)
{
    settings s = load_settings(env_of({}));
    BOOST_TEST(s.listen.address().to_string() == "127.0.0.1");
    BOOST_TEST(s.listen.port() == 8090);
    BOOST_TEST(s.project_id == 1);
    BOOST_TEST(s.project_key == "sim-project-key");
    BOOST_TEST(s.plain_project_key == "sim-plain-key");
    BOOST_TEST(!s.webhook_url.has_value());
    BOOST_TEST(!webhook_options_from(s).has_value()); // no webhook: the module is disabled
    BOOST_TEST(s.webhook_timeout.count() == 5'000);
    BOOST_TEST(s.webhook_retry_min.count() == 1'000);
    BOOST_TEST(s.webhook_retry_max.count() == 30'000);
    BOOST_TEST(s.webhook_give_up.count() == 600'000);
    BOOST_TEST(s.threads == 2U);
    BOOST_TEST((s.log_level == common::log::level::info));
}

BOOST_AUTO_TEST_CASE(every_variable_is_read)
{
    settings s = load_settings(env_of({{"MODESIM_LISTEN", "0.0.0.0:9999"},
                                       {"MODESIM_PROJECT_ID", "42"},
                                       {"MODESIM_PROJECT_KEY", "k1"},
                                       {"MODESIM_PLAIN_PROJECT_KEY", "k2"},
                                       {"MODESIM_WEBHOOK_URL", "http://127.0.0.1:8081/v1/mode/events"},
                                       {"MODESIM_WEBHOOK_KEY", "whk"},
                                       {"MODESIM_WEBHOOK_TIMEOUT", "750ms"},
                                       {"MODESIM_WEBHOOK_RETRY_MIN", "200ms"},
                                       {"MODESIM_WEBHOOK_RETRY_MAX", "5s"},
                                       {"MODESIM_WEBHOOK_GIVE_UP", "2m"},
                                       {"MODESIM_THREADS", "4"},
                                       {"MODESIM_LOG_LEVEL", "debug"}}));
    BOOST_TEST(s.listen.port() == 9999);
    BOOST_TEST(s.project_id == 42);
    BOOST_TEST(s.project_key == "k1");
    BOOST_TEST(s.plain_project_key == "k2");
    BOOST_TEST(s.webhook_url.value_or("") == "http://127.0.0.1:8081/v1/mode/events");
    BOOST_TEST(s.webhook_key.value_or("") == "whk");
    BOOST_TEST(s.webhook_timeout.count() == 750);
    BOOST_TEST(s.webhook_retry_min.count() == 200);
    BOOST_TEST(s.webhook_retry_max.count() == 5'000);
    BOOST_TEST(s.webhook_give_up.count() == 120'000);
    auto o = webhook_options_from(s);
    BOOST_REQUIRE(o.has_value());
    BOOST_TEST(o->url == "http://127.0.0.1:8081/v1/mode/events");
    BOOST_TEST(o->key == "whk");
    BOOST_TEST(o->project_id == 42);
    BOOST_TEST(o->timeout.count() == 750);
    BOOST_TEST(o->retry_min.count() == 200);
    BOOST_TEST(o->retry_max.count() == 5'000);
    BOOST_TEST(o->give_up.count() == 120'000);
    BOOST_TEST(s.threads == 4U);
    BOOST_TEST((s.log_level == common::log::level::debug));
}

BOOST_AUTO_TEST_CASE(bad_settings_are_refused)
{
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_PROJECT_ID", "0"}})), common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_PLAIN_PROJECT_KEY", "sim-project-key"}})), common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_WEBHOOK_URL", "http://x/y"}})), common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_WEBHOOK_URL", "ftp://x/y"}, {"MODESIM_WEBHOOK_KEY", "k"}})),
                      common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_LOG_LEVEL", "loud"}})), common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_THREADS", "0"}})), common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_WEBHOOK_TIMEOUT", "0ms"}})), common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_WEBHOOK_TIMEOUT", "soon"}})), common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_WEBHOOK_RETRY_MIN", "0"}})), common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_WEBHOOK_RETRY_MIN", "2s"}, {"MODESIM_WEBHOOK_RETRY_MAX", "1s"}})),
                      common::config::error);
    BOOST_CHECK_THROW(load_settings(env_of({{"MODESIM_WEBHOOK_GIVE_UP", "-1s"}})), common::config::error);
}

BOOST_AUTO_TEST_SUITE_END()
