#include "common/config.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace cfg = common::config;
using namespace std::chrono_literals;

namespace {

using vars = std::map<std::string, std::string>;

cfg::env env_of(vars v)
{
    return cfg::env([v = std::move(v)](const std::string& name) -> std::optional<std::string> {
        auto it = v.find(name);
        if (it == v.end())
            return std::nullopt;
        return it->second;
    });
}

/** The message of the config::error `f` throws; fails the test when it throws nothing else. */
template <class F>
std::string error_of(F&& f)
{
    try {
        f();
    } catch (const cfg::error& e) {
        return e.what();
    }
    BOOST_FAIL("expected a config::error");
    return {};
}

/** A file in the temp directory, removed at the end of the scope. */
struct temp_file
{
    std::filesystem::path path;
    explicit temp_file(const std::string& contents)
        : path(std::filesystem::temp_directory_path() /
               ("mb_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++)))
    {
        std::ofstream out(path, std::ios::binary);
        out << contents;
    }
    ~temp_file()
    {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    static int& counter()
    {
        static int n = 0;
        return n;
    }
};

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

vars minimal_service_env()
{
    return {{"MB_DATABASE_URL", "postgresql://mb:Pw0rdXyz@127.0.0.1:5432/modebridge"},
            {"MB_REDIS_URL", "redis://127.0.0.1:6379/0"}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(required_missing_names_the_variable)
{
    auto e = env_of({{"OTHER", "x"}, {"EMPTY", ""}});
    BOOST_TEST(e.required("OTHER", "something") == "x");
    auto msg = error_of([&] { (void)e.required("MB_PUBLIC_URL", "base URL for links"); });
    BOOST_TEST(contains(msg, "MB_PUBLIC_URL"));
    // An empty variable counts as unset.
    BOOST_TEST(contains(error_of([&] { (void)e.required("EMPTY", "x"); }), "EMPTY"));
    BOOST_TEST(e.get("EMPTY", "fallback") == "fallback");
    BOOST_TEST(!e.optional("NOPE").has_value());
}

BOOST_AUTO_TEST_CASE(secret_from_file_strips_one_trailing_newline)
{
    temp_file lf("s3cr3t-value\n");
    temp_file crlf("s3cr3t-value\r\n");
    temp_file bare("s3cr3t-value");
    temp_file two("line1\nline2\n");
    for (const auto* f : {&lf, &crlf, &bare}) {
        auto e = env_of({{"MB_KEY_FILE", f->path.string()}});
        BOOST_TEST(e.optional_secret("MB_KEY").value() == "s3cr3t-value");
        BOOST_TEST(e.required_secret("MB_KEY", "a key") == "s3cr3t-value");
    }
    BOOST_TEST(env_of({{"MB_KEY_FILE", two.path.string()}}).required_secret("MB_KEY", "k") == "line1\nline2");
    BOOST_TEST(env_of({{"MB_KEY", "direct"}}).required_secret("MB_KEY", "k") == "direct");
    BOOST_TEST(!env_of({}).optional_secret("MB_KEY").has_value());
}

BOOST_AUTO_TEST_CASE(secret_errors_name_the_variable_and_never_the_value)
{
    temp_file f("file-secret-value\n");
    auto both = env_of({{"MB_KEY", "direct-secret-value"}, {"MB_KEY_FILE", f.path.string()}});
    auto msg = error_of([&] { (void)both.optional_secret("MB_KEY"); });
    BOOST_TEST(contains(msg, "MB_KEY"));
    BOOST_TEST(!contains(msg, "direct-secret-value"));
    BOOST_TEST(!contains(msg, "file-secret-value"));

    auto missing_file = env_of({{"MB_KEY_FILE", "/nonexistent/dir/mb-secret"}});
    BOOST_TEST(contains(error_of([&] { (void)missing_file.required_secret("MB_KEY", "k"); }), "MB_KEY_FILE"));

    temp_file empty("");
    auto empty_file = env_of({{"MB_KEY_FILE", empty.path.string()}});
    BOOST_TEST(contains(error_of([&] { (void)empty_file.optional_secret("MB_KEY"); }), "MB_KEY_FILE"));

    auto none = env_of({});
    auto msg2 = error_of([&] { (void)none.required_secret("MB_KEY", "the key"); });
    BOOST_TEST(contains(msg2, "MB_KEY"));
    BOOST_TEST(contains(msg2, "MB_KEY_FILE"));
}

BOOST_AUTO_TEST_CASE(integer_range)
{
    auto e = env_of({{"N", "5"},
                     {"LOW", "0"},
                     {"HIGH", "11"},
                     {"NEG", "-3"},
                     {"TEXT", "abc"},
                     {"TAIL", "7x"},
                     {"SPACE", " 5"},
                     {"BIG", "99999999999999999999999"}});
    BOOST_TEST(e.integer("N", 1, 1, 10) == 5);
    BOOST_TEST(e.integer("UNSET", 4, 1, 10) == 4);
    BOOST_TEST(e.integer("NEG", 0, -5, 5) == -3);
    BOOST_TEST(e.integer("HIGH", 0, 0, 11) == 11);
    for (std::string name : {"LOW", "HIGH", "TEXT", "TAIL", "SPACE", "BIG"}) {
        BOOST_TEST_CONTEXT(name)
        {
            auto msg = error_of([&] { (void)e.integer(name, 1, 1, 10); });
            BOOST_TEST(contains(msg, name));
        }
    }
    // The message says what is allowed, not what was given.
    auto msg = error_of([&] { (void)e.integer("TEXT", 1, 1, 10); });
    BOOST_TEST(!contains(msg, "abc"));
}

BOOST_AUTO_TEST_CASE(durations)
{
    const std::map<std::string, std::chrono::milliseconds> good{
        {"250ms", 250ms}, {"30s", 30s}, {"15m", 15min}, {"2h", 2h}, {"7d", 7 * 24h}, {"10", 10s}, {"0", 0ms}};
    for (const auto& [text, expected] : good) {
        BOOST_TEST_CONTEXT("'" << text << "'")
        {
            BOOST_TEST(env_of({{"D", text}}).duration("D", 1s).count() == expected.count());
        }
    }
    BOOST_TEST(env_of({}).duration("D", 1234ms).count() == 1234);
    for (std::string bad : {"ms", "s", "1.5s", "-5s", "5 s", " 5s", "5sec", "5S", "10y", "abc", "5ms5", "+5",
                            "999999999999999999999s", "99999999999d"}) {
        BOOST_TEST_CONTEXT("'" << bad << "'")
        {
            auto msg = error_of([&] { (void)env_of({{"MB_GRACE", bad}}).duration("MB_GRACE", 1s); });
            BOOST_TEST(contains(msg, "MB_GRACE"));
        }
    }
}

BOOST_AUTO_TEST_CASE(booleans)
{
    for (std::string t : {"1", "true", "yes", "on"})
        BOOST_TEST(env_of({{"B", t}}).boolean("B", false), t);
    for (std::string f : {"0", "false", "no", "off"})
        BOOST_TEST(!env_of({{"B", f}}).boolean("B", true), f);
    BOOST_TEST(env_of({}).boolean("B", true));
    BOOST_TEST(!env_of({}).boolean("B", false));
    for (std::string bad : {"maybe", "2", "tru", "y es"}) {
        auto msg = error_of([&] { (void)env_of({{"MB_FLAG", bad}}).boolean("MB_FLAG", false); });
        BOOST_TEST(contains(msg, "MB_FLAG"), bad);
    }
}

BOOST_AUTO_TEST_CASE(listen_endpoints)
{
    namespace ip = boost::asio::ip;
    auto ep = cfg::parse_endpoint("0.0.0.0:8080");
    BOOST_TEST(ep.address() == ip::make_address("0.0.0.0"));
    BOOST_TEST(ep.port() == 8080);

    ep = cfg::parse_endpoint("[::1]:9000");
    BOOST_TEST(ep.address().is_v6());
    BOOST_TEST(ep.address() == ip::make_address("::1"));
    BOOST_TEST(ep.port() == 9000);

    ep = cfg::parse_endpoint(":8080");
    BOOST_TEST(ep.address().is_unspecified());
    BOOST_TEST(ep.port() == 8080);

    ep = cfg::parse_endpoint("localhost:1");
    BOOST_TEST(ep.address().is_loopback());
    BOOST_TEST(ep.port() == 1);

    ep = cfg::parse_endpoint("127.0.0.1:65535");
    BOOST_TEST(ep.port() == 65535);

    for (std::string bad : {"8080", "0.0.0.0", "0.0.0.0:", "0.0.0.0:65536", "0.0.0.0:-1", "0.0.0.0:80x", "999.0.0.1:80",
                            "[::1:80", "[::1]", "example.invalid:80", "", ":", "1.2.3.4:+80"}) {
        BOOST_TEST_CONTEXT("'" << bad << "'")
        {
            BOOST_CHECK_THROW((void)cfg::parse_endpoint(bad), std::invalid_argument);
        }
    }

    // Through env: the default applies when unset, and a bad value names the variable only.
    auto def = env_of({}).listen("MB_LISTEN", "0.0.0.0:8081");
    BOOST_TEST(def.port() == 8081);
    auto set = env_of({{"MB_LISTEN", "127.0.0.1:9999"}}).listen("MB_LISTEN", "0.0.0.0:8081");
    BOOST_TEST(set.port() == 9999);
    auto msg = error_of([&] { (void)env_of({{"MB_LISTEN", "nonsense-host:zz"}}).listen("MB_LISTEN", ":1"); });
    BOOST_TEST(contains(msg, "MB_LISTEN"));
    BOOST_TEST(!contains(msg, "nonsense-host"));
}

BOOST_AUTO_TEST_CASE(urls_by_scheme)
{
    auto e = env_of({{"A", "postgresql://mb:pw@db.local:5432/app"},
                     {"B", "postgres://db.local/app"},
                     {"R", "redis://127.0.0.1:6379/0"}});
    BOOST_TEST(e.url("A", {"postgresql", "postgres"}, std::nullopt, "db") == "postgresql://mb:pw@db.local:5432/app");
    BOOST_TEST(e.url("B", {"postgresql", "postgres"}, std::nullopt, "db") == "postgres://db.local/app");
    BOOST_TEST(e.url("R", {"redis"}, std::nullopt, "redis") == "redis://127.0.0.1:6379/0");
    BOOST_TEST(e.url("UNSET", {"redis"}, std::string("redis://localhost:6379"), "redis") == "redis://localhost:6379");
    BOOST_TEST(contains(error_of([&] { (void)e.url("UNSET", {"redis"}, std::nullopt, "redis"); }), "UNSET"));

    // Each malformed URL carries a distinctive password: the message must name the variable, not echo it.
    const std::string secret = "Hunter2Zq9";
    for (std::string bad :
         {"mysql://admin:" + secret + "@db.local/app", "redis://admin:" + secret + "@db.local/0",
          "postgresql://admin:" + secret + "@/app", "postgresql:///app?password=" + secret,
          "postgresql://admin:" + secret + "@db local/app", "admin:" + secret + "@db.local", "not a url " + secret}) {
        BOOST_TEST_CONTEXT("'" << bad << "'")
        {
            auto msg = error_of([&] {
                (void)env_of({{"MB_DATABASE_URL", bad}})
                    .url("MB_DATABASE_URL", {"postgresql", "postgres"}, std::nullopt, "PostgreSQL URI");
            });
            BOOST_TEST(contains(msg, "MB_DATABASE_URL"));
            BOOST_TEST(!contains(msg, secret));
        }
    }
    auto msg = error_of([&] {
        (void)env_of({{"MB_REDIS_URL", "postgresql://u:" + secret + "@h/db"}})
            .url("MB_REDIS_URL", {"redis"}, std::nullopt, "redis URL");
    });
    BOOST_TEST(contains(msg, "MB_REDIS_URL"));
    BOOST_TEST(!contains(msg, secret));
}

BOOST_AUTO_TEST_CASE(service_settings_from_a_minimal_environment)
{
    auto s = cfg::load_service_settings(env_of(minimal_service_env()), "0.0.0.0:8080");
    BOOST_TEST(s.listen.port() == 8080);
    BOOST_TEST(s.listen.address().is_unspecified());
    BOOST_TEST(s.database_url == "postgresql://mb:Pw0rdXyz@127.0.0.1:5432/modebridge");
    BOOST_TEST(s.redis_url == "redis://127.0.0.1:6379/0");
    BOOST_TEST(s.tls_cert_file.empty());
    BOOST_TEST(s.tls_key_file.empty());
    BOOST_TEST(s.threads >= 1U);
    BOOST_TEST(s.db_pool_size == 4U);
    BOOST_TEST(s.db_timeout.count() == 5'000);
    BOOST_TEST(s.log_level == "info");
    BOOST_TEST(s.shutdown_grace.count() == 10'000);
    BOOST_TEST(s.body_limit == 1024U * 1024U);
    BOOST_TEST(s.header_limit == 16U * 1024U);
    BOOST_TEST(s.url_limit == 8U * 1024U);
    BOOST_TEST(s.ws_message_limit == 64U * 1024U);
    BOOST_TEST(s.connections_per_address == 1000U);
    BOOST_TEST(s.json_max_depth == 32U);
    BOOST_TEST(s.json_max_members == 10000U);
    BOOST_TEST(s.idle_timeout.count() == 60'000);
    BOOST_TEST(s.ws_idle_timeout.count() == 60'000);
}

BOOST_AUTO_TEST_CASE(service_settings_overrides)
{
    auto v = minimal_service_env();
    v["MB_LISTEN"] = "127.0.0.1:9001";
    v["MB_THREADS"] = "3";
    v["MB_DB_POOL_SIZE"] = "8";
    v["MB_DB_TIMEOUT"] = "1500ms";
    v["MB_LOG_LEVEL"] = "debug";
    v["MB_SHUTDOWN_GRACE"] = "2500ms";
    v["MB_BODY_LIMIT"] = "65536";
    v["MB_HEADER_LIMIT"] = "32768";
    v["MB_URL_LIMIT"] = "4096";
    v["MB_WS_MESSAGE_LIMIT"] = "1024";
    v["MB_MAX_CONNECTIONS_PER_ADDRESS"] = "0";
    v["MB_JSON_MAX_DEPTH"] = "8";
    v["MB_JSON_MAX_MEMBERS"] = "500";
    v["MB_IDLE_TIMEOUT"] = "5s";
    v["MB_WS_IDLE_TIMEOUT"] = "1500ms";
    v["MB_TLS_CERT_FILE"] = "/etc/mb/cert.pem";
    v["MB_TLS_KEY_FILE"] = "/etc/mb/key.pem";
    auto s = cfg::load_service_settings(env_of(v), "0.0.0.0:8080");
    BOOST_TEST(s.listen.port() == 9001);
    BOOST_TEST(s.threads == 3U);
    BOOST_TEST(s.db_pool_size == 8U);
    BOOST_TEST(s.db_timeout.count() == 1500);
    BOOST_TEST(s.log_level == "debug");
    BOOST_TEST(s.shutdown_grace.count() == 2500);
    BOOST_TEST(s.body_limit == 65536U);
    BOOST_TEST(s.header_limit == 32768U);
    BOOST_TEST(s.url_limit == 4096U);
    BOOST_TEST(s.ws_message_limit == 1024U);
    BOOST_TEST(s.connections_per_address == 0U);
    BOOST_TEST(s.json_max_depth == 8U);
    BOOST_TEST(s.json_max_members == 500U);
    BOOST_TEST(s.idle_timeout.count() == 5'000);
    BOOST_TEST(s.ws_idle_timeout.count() == 1'500);
    BOOST_TEST(s.tls_cert_file == "/etc/mb/cert.pem");
    BOOST_TEST(s.tls_key_file == "/etc/mb/key.pem");
}

BOOST_AUTO_TEST_CASE(service_settings_database_url_from_a_file)
{
    // The database URL carries a password, so it is a secret and may come from MB_DATABASE_URL_FILE.
    temp_file f("postgresql://mb:FromFile1@127.0.0.1/modebridge\n");
    auto v = minimal_service_env();
    v.erase("MB_DATABASE_URL");
    v["MB_DATABASE_URL_FILE"] = f.path.string();
    auto s = cfg::load_service_settings(env_of(v), "0.0.0.0:8080");
    BOOST_TEST(s.database_url == "postgresql://mb:FromFile1@127.0.0.1/modebridge");
}

BOOST_AUTO_TEST_CASE(service_settings_each_required_variable_missing)
{
    for (std::string name : {"MB_DATABASE_URL", "MB_REDIS_URL"}) {
        BOOST_TEST_CONTEXT(name)
        {
            auto v = minimal_service_env();
            v.erase(name);
            auto msg = error_of([&] { (void)cfg::load_service_settings(env_of(v), "0.0.0.0:8080"); });
            BOOST_TEST(contains(msg, name));
            // The variables that are set are not echoed.
            BOOST_TEST(!contains(msg, "Pw0rdXyz"));
        }
    }
}

BOOST_AUTO_TEST_CASE(service_settings_invalid_values_name_the_variable)
{
    const std::map<std::string, std::string> bad{{"MB_LISTEN", "nowhere"},
                                                 {"MB_THREADS", "0"},
                                                 {"MB_DB_POOL_SIZE", "1000"},
                                                 {"MB_DB_TIMEOUT", "10ms"},
                                                 {"MB_LOG_LEVEL", "verbose"},
                                                 {"MB_SHUTDOWN_GRACE", "soon"},
                                                 {"MB_BODY_LIMIT", "12"},
                                                 {"MB_IDLE_TIMEOUT", "0s"},
                                                 {"MB_WS_IDLE_TIMEOUT", "100ms"},
                                                 {"MB_TLS_CERT_FILE", "/only/the/cert.pem"},
                                                 {"MB_REDIS_URL", "http://127.0.0.1:6379"}};
    for (const auto& [name, value] : bad) {
        BOOST_TEST_CONTEXT(name << "=" << value)
        {
            auto v = minimal_service_env();
            v[name] = value;
            auto msg = error_of([&] { (void)cfg::load_service_settings(env_of(v), "0.0.0.0:8080"); });
            BOOST_TEST(contains(msg, name));
        }
    }
    auto v = minimal_service_env();
    v["MB_TLS_KEY_FILE"] = "/only/the/key.pem";
    BOOST_TEST(contains(error_of([&] { (void)cfg::load_service_settings(env_of(v), ":1"); }), "MB_TLS_CERT_FILE"));
}

BOOST_AUTO_TEST_SUITE_END()
