#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace common::config {

/**
 * A missing or malformed setting. The message is one line that names the variable and says what is
 * expected; it never repeats the value (values may be secrets).
 */
class error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

/**
 * Reads settings from environment variables (or any name → value source, for tests) and validates
 * them. Every secret `X` may be given instead as `X_FILE`, a path to a file holding it.
 * Thread-safety: const member functions may be used concurrently.
 */
class env
{
public:
    using source = std::function<std::optional<std::string>(const std::string&)>;

    /** The process environment. */
    env();
    explicit env(source s);

    std::optional<std::string> optional(const std::string& name) const;
    std::string required(const std::string& name, std::string_view what) const;
    std::string get(const std::string& name, std::string default_value) const;

    /** `name` or the contents of the file named by `name_FILE` (one trailing newline removed). */
    std::optional<std::string> optional_secret(const std::string& name) const;
    std::string required_secret(const std::string& name, std::string_view what) const;

    std::int64_t integer(const std::string& name, std::int64_t default_value, std::int64_t min,
                         std::int64_t max) const;
    /** Durations like "250ms", "30s", "15m", "2h", "7d"; a bare number is seconds. */
    std::chrono::milliseconds duration(const std::string& name, std::chrono::milliseconds default_value) const;
    bool boolean(const std::string& name, bool default_value) const;

    /** "address:port", "[v6]:port" or ":port" (all interfaces). */
    boost::asio::ip::tcp::endpoint listen(const std::string& name, std::string_view default_value) const;

    /**
     * A URL whose scheme is one of `schemes` (e.g. {"postgresql", "postgres"}), with a host. URLs may
     * carry passwords, so like a secret it may be given as `name_FILE` instead.
     */
    std::string url(const std::string& name, std::initializer_list<std::string_view> schemes,
                    std::optional<std::string> default_value, std::string_view what) const;

    /** Checks that `value` is a URL with one of `schemes` and a host; fails naming `name`. */
    static std::string check_url(const std::string& name, std::string value,
                                 std::initializer_list<std::string_view> schemes, std::string_view what);

    [[noreturn]] static void fail(const std::string& name, std::string_view problem);

private:
    source source_;
};

/** The settings both services share (api.md's configuration table). */
struct service_settings
{
    boost::asio::ip::tcp::endpoint listen;
    std::string database_url;
    std::string redis_url;
    std::string tls_cert_file; // both empty: plain HTTP
    std::string tls_key_file;
    std::size_t threads = 2;
    std::size_t db_pool_size = 4;
    /** Deadline of one database transaction; a server silent past it is treated as hung. */
    std::chrono::milliseconds db_timeout{5'000};
    std::string log_level = "info";
    std::chrono::milliseconds shutdown_grace{10'000};
    /** On SIGTERM, how long /readyz answers 503 while everything else is still served, before the
        service stops accepting: the time a load balancer needs to notice and send no more. */
    std::chrono::milliseconds shutdown_delay{0};
    std::size_t body_limit = 1024 * 1024;
    std::size_t header_limit = 16 * 1024;   // request line and headers (larger: 431)
    std::size_t url_limit = 8 * 1024;       // the request target (longer: 414)
    std::size_t ws_message_limit = 64 * 1024; // a WebSocket message from a client (larger: closed, 1009)
    std::size_t json_max_depth = 32;        // nesting of a JSON request body (deeper: 400 JSON_TOO_DEEP)
    std::size_t json_max_members = 10'000;  // its members and elements (more: 413 JSON_TOO_LARGE)
    std::size_t connections_per_address = 1000; // open connections from one peer address; 0: no limit
    std::chrono::milliseconds header_timeout{10'000}; // a client must send its headers within this
    std::chrono::milliseconds body_timeout{30'000};   // ... and its body within this
    /** A kept-alive HTTP connection with no request under way is closed after this. */
    std::chrono::milliseconds idle_timeout{60'000};
    /** A WebSocket peer silent for half of this is pinged; silent for all of it, dropped. */
    std::chrono::milliseconds ws_idle_timeout{60'000};
    /** A WebSocket frame not fully written within this (the peer stopped reading) cuts the connection. */
    std::chrono::milliseconds ws_write_timeout{10'000};
};

service_settings load_service_settings(const env& e, std::string_view default_listen);

/** Parses "address:port"; throws std::invalid_argument. */
boost::asio::ip::tcp::endpoint parse_endpoint(std::string_view text);

} // namespace common::config
