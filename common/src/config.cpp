#include "common/config.hpp"

#include "common/log.hpp"

#include <boost/url/parse.hpp>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace common::config {

namespace {

std::optional<std::string> process_env(const std::string& name)
{
    const char* v = std::getenv(name.c_str());
    if (v == nullptr)
        return std::nullopt;
    return std::string(v);
}

std::optional<std::int64_t> parse_int(std::string_view s)
{
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

} // namespace

env::env()
    : source_(process_env)
{
}

env::env(source s)
    : source_(std::move(s))
{
}

void env::fail(const std::string& name, std::string_view problem)
{
    throw error(fmt::format("configuration error: {} {}", name, problem));
}

std::optional<std::string> env::optional(const std::string& name) const
{
    auto v = source_(name);
    if (v && v->empty())
        return std::nullopt; // an empty variable counts as unset
    return v;
}

std::string env::required(const std::string& name, std::string_view what) const
{
    auto v = optional(name);
    if (!v)
        fail(name, fmt::format("is required but not set ({})", what));
    return *v;
}

std::string env::get(const std::string& name, std::string default_value) const
{
    return optional(name).value_or(std::move(default_value));
}

std::optional<std::string> env::optional_secret(const std::string& name) const
{
    auto direct = optional(name);
    auto file = optional(name + "_FILE");
    if (direct && file)
        fail(name, fmt::format("and {}_FILE are both set; set only one", name));
    if (direct)
        return direct;
    if (!file)
        return std::nullopt;
    std::ifstream in(*file, std::ios::binary);
    if (!in)
        fail(name + "_FILE", "names a file that cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string value = ss.str();
    if (!value.empty() && value.back() == '\n')
        value.pop_back();
    if (!value.empty() && value.back() == '\r')
        value.pop_back();
    if (value.empty())
        fail(name + "_FILE", "names an empty file");
    return value;
}

std::string env::required_secret(const std::string& name, std::string_view what) const
{
    auto v = optional_secret(name);
    if (!v)
        fail(name, fmt::format("is required but not set (nor {}_FILE) ({})", name, what));
    return *v;
}

std::int64_t env::integer(const std::string& name, std::int64_t default_value, std::int64_t min,
                          std::int64_t max) const
{
    auto v = optional(name);
    if (!v)
        return default_value;
    auto n = parse_int(*v);
    if (!n || *n < min || *n > max)
        fail(name, fmt::format("must be an integer from {} to {}", min, max));
    return *n;
}

std::chrono::milliseconds env::duration(const std::string& name, std::chrono::milliseconds default_value) const
{
    auto v = optional(name);
    if (!v)
        return default_value;
    std::string_view s = *v;
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9')
        ++digits;
    auto n = parse_int(s.substr(0, digits));
    std::string_view unit = s.substr(digits);
    std::int64_t scale = 0;
    if (unit.empty() || unit == "s")
        scale = 1000;
    else if (unit == "ms")
        scale = 1;
    else if (unit == "m")
        scale = 60'000;
    else if (unit == "h")
        scale = 3'600'000;
    else if (unit == "d")
        scale = 86'400'000;
    if (!n || scale == 0 || *n > (std::int64_t{1} << 40) / scale)
        fail(name, "must be a duration such as 250ms, 30s, 15m, 12h or 7d");
    return std::chrono::milliseconds(*n * scale);
}

bool env::boolean(const std::string& name, bool default_value) const
{
    auto v = optional(name);
    if (!v)
        return default_value;
    if (*v == "1" || *v == "true" || *v == "yes" || *v == "on")
        return true;
    if (*v == "0" || *v == "false" || *v == "no" || *v == "off")
        return false;
    fail(name, "must be true or false");
}

boost::asio::ip::tcp::endpoint parse_endpoint(std::string_view text)
{
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        throw std::invalid_argument("missing port");
    std::string_view host = text.substr(0, colon);
    auto port = parse_int(text.substr(colon + 1));
    if (!port || *port < 0 || *port > 65535)
        throw std::invalid_argument("bad port");
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string_view::npos)
        throw std::invalid_argument("an IPv6 address needs brackets: [::1]:8080");
    boost::asio::ip::address addr;
    if (host.empty()) {
        addr = boost::asio::ip::address_v4::any();
    } else if (host == "localhost") {
        addr = boost::asio::ip::address_v4::loopback();
    } else {
        boost::system::error_code ec;
        addr = boost::asio::ip::make_address(std::string(host), ec);
        if (ec)
            throw std::invalid_argument("bad address");
    }
    return {addr, static_cast<unsigned short>(*port)};
}

boost::asio::ip::tcp::endpoint env::listen(const std::string& name, std::string_view default_value) const
{
    std::string v = get(name, std::string(default_value));
    try {
        return parse_endpoint(v);
    } catch (const std::invalid_argument&) {
        fail(name, "must be address:port, e.g. 0.0.0.0:8080 or [::]:8080");
    }
}

std::string env::check_url(const std::string& name, std::string value,
                           std::initializer_list<std::string_view> schemes, std::string_view what)
{
    auto parsed = boost::urls::parse_uri(value);
    bool scheme_ok = false;
    if (parsed) {
        for (auto s : schemes)
            scheme_ok = scheme_ok || parsed->scheme() == s;
    }
    if (!parsed || !scheme_ok || parsed->encoded_host().empty())
        fail(name, fmt::format("is malformed (expected {})", what));
    return value;
}

std::string env::url(const std::string& name, std::initializer_list<std::string_view> schemes,
                     std::optional<std::string> default_value, std::string_view what) const
{
    // URLs may carry credentials (postgresql://user:pass@...), so they may come from `name_FILE` too.
    auto v = optional_secret(name);
    if (!v && default_value)
        v = std::move(default_value);
    if (!v)
        fail(name, fmt::format("is required but not set ({})", what));
    return check_url(name, std::move(*v), schemes, what);
}

service_settings load_service_settings(const env& e, std::string_view default_listen)
{
    service_settings s;
    s.listen = e.listen("MB_LISTEN", default_listen);
    s.database_url = e.url("MB_DATABASE_URL", {"postgresql", "postgres"}, std::nullopt,
                           "PostgreSQL URI, postgresql://user:pass@host:port/db");
    s.redis_url = e.url("MB_REDIS_URL", {"redis"}, std::nullopt, "redis://host:port[/db]");
    s.tls_cert_file = e.get("MB_TLS_CERT_FILE", "");
    s.tls_key_file = e.get("MB_TLS_KEY_FILE", "");
    if (s.tls_cert_file.empty() != s.tls_key_file.empty())
        env::fail(s.tls_cert_file.empty() ? "MB_TLS_CERT_FILE" : "MB_TLS_KEY_FILE",
                  "must be set together with its pair (MB_TLS_CERT_FILE and MB_TLS_KEY_FILE)");
    auto hw = std::max(1U, std::thread::hardware_concurrency());
    s.threads = static_cast<std::size_t>(e.integer("MB_THREADS", hw, 1, 256));
    s.db_pool_size = static_cast<std::size_t>(e.integer("MB_DB_POOL_SIZE", 4, 1, 128));
    s.db_timeout = e.duration("MB_DB_TIMEOUT", s.db_timeout);
    if (s.db_timeout.count() < 100)
        env::fail("MB_DB_TIMEOUT", "must be at least 100ms");
    s.log_level = e.get("MB_LOG_LEVEL", "info");
    try {
        (void)log::parse_level(s.log_level);
    } catch (const std::invalid_argument&) {
        env::fail("MB_LOG_LEVEL", "must be one of debug, info, warn, error");
    }
    s.shutdown_grace = e.duration("MB_SHUTDOWN_GRACE", std::chrono::seconds(10));
    s.shutdown_delay = e.duration("MB_SHUTDOWN_DELAY", std::chrono::seconds(0));
    s.body_limit = static_cast<std::size_t>(e.integer("MB_BODY_LIMIT", 1024 * 1024, 1024, 64 * 1024 * 1024));
    s.header_limit = static_cast<std::size_t>(e.integer("MB_HEADER_LIMIT", 16 * 1024, 1024, 1024 * 1024));
    s.url_limit = static_cast<std::size_t>(e.integer("MB_URL_LIMIT", 8 * 1024, 256, 1024 * 1024));
    if (s.url_limit > s.header_limit)
        env::fail("MB_URL_LIMIT", "must not exceed MB_HEADER_LIMIT");
    s.ws_message_limit = static_cast<std::size_t>(e.integer("MB_WS_MESSAGE_LIMIT", 64 * 1024, 125, 16 * 1024 * 1024));
    s.json_max_depth = static_cast<std::size_t>(e.integer("MB_JSON_MAX_DEPTH", 32, 2, 256));
    s.json_max_members = static_cast<std::size_t>(e.integer("MB_JSON_MAX_MEMBERS", 10'000, 10, 1'000'000));
    s.connections_per_address =
        static_cast<std::size_t>(e.integer("MB_MAX_CONNECTIONS_PER_ADDRESS", 1000, 0, 10'000'000));
    s.header_timeout = e.duration("MB_HEADER_TIMEOUT", s.header_timeout);
    s.body_timeout = e.duration("MB_BODY_TIMEOUT", s.body_timeout);
    if (s.header_timeout.count() <= 0 || s.body_timeout.count() <= 0)
        env::fail("MB_HEADER_TIMEOUT", "and MB_BODY_TIMEOUT must be positive");
    s.idle_timeout = e.duration("MB_IDLE_TIMEOUT", s.idle_timeout);
    if (s.idle_timeout.count() < 100)
        env::fail("MB_IDLE_TIMEOUT", "must be at least 100ms");
    s.ws_idle_timeout = e.duration("MB_WS_IDLE_TIMEOUT", s.ws_idle_timeout);
    if (s.ws_idle_timeout.count() < 200)
        env::fail("MB_WS_IDLE_TIMEOUT", "must be at least 200ms");
    s.ws_write_timeout = e.duration("MB_WS_WRITE_TIMEOUT", s.ws_write_timeout);
    if (s.ws_write_timeout.count() < 100)
        env::fail("MB_WS_WRITE_TIMEOUT", "must be at least 100ms");
    return s;
}

} // namespace common::config
