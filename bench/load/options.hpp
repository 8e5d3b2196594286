#pragma once

// mb-load's command line: what to send, how hard and for how long, and how to report it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bench::load {

/** A bad command line: main prints the message and a hint to `--help`, and exits with status 2. */
class usage_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

/** Every setting of one run, validated by parse_options(); immutable once the run starts. */
struct options
{
    // Target. The URL is kept as given (for the report) and split into its parts.
    std::string url;
    std::string host;      // for the resolver (IPv6 without brackets)
    std::string port;      // "80" unless the URL names one
    std::string authority; // Host header value, as written in the URL
    std::string target;    // path and query, "/" at least
    std::string method = "GET";
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> body;

    // Load shape.
    std::size_t connections = 64;
    std::size_t threads = 1;
    std::chrono::nanoseconds duration = std::chrono::seconds(10);
    std::optional<std::uint64_t> requests; // set: stop after this many measured requests
    std::chrono::nanoseconds warmup = std::chrono::seconds(2);
    std::chrono::nanoseconds timeout = std::chrono::seconds(5);
    std::optional<double> rate; // set: open loop at this many requests/s over all connections
    bool honor_retry_after = false; // a 429/503 with Retry-After pauses its connection that long

    // Per-request body rewriting and signing (MODE webhooks).
    std::optional<std::string> sign_key; // never printed
    std::string sign_url;
    std::optional<std::string> unique_body_field;

    // Report.
    bool json = false;
    std::string label;
};

/// What `--help` prints.
std::string usage_text();

/// Parses argv (argv[0] excluded). Returns nullopt when `--help` was asked for; throws
/// usage_error, with a message naming the offending argument, for anything invalid. Reads the
/// file named by --body-file.
std::optional<options> parse_options(const std::vector<std::string>& args);

/// "10s", "500ms", "1.5s", "2m", "250us", or a bare number of seconds. Throws usage_error.
std::chrono::nanoseconds parse_duration(const std::string& text, const std::string& what);

} // namespace bench::load
