#include "options.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>

namespace bench::load {
namespace {

constexpr std::size_t max_connections = 100000;
constexpr std::size_t max_threads = 64;

bool iequals(std::string_view a, std::string_view b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto lower = [](char c) {
            return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        };
        return lower(x) == lower(y);
    });
}

template <class T>
T parse_number(const std::string& text, const std::string& what)
{
    T value{};
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || text.empty())
        throw usage_error(what + ": '" + text + "' is not a valid number");
    return value;
}

std::size_t parse_count(const std::string& text, const std::string& what, std::size_t max)
{
    auto n = parse_number<std::uint64_t>(text, what);
    if (n == 0 || n > max)
        throw usage_error(what + ": must be between 1 and " + std::to_string(max));
    return static_cast<std::size_t>(n);
}

void set_url(options& o, const std::string& text)
{
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed)
        throw usage_error(
            "--url: '" + text + "' is not a valid URL (" + parsed.error().message() + ")"
        );
    const auto& u = *parsed;
    if (u.scheme() != "http")
        throw usage_error(
            "--url: only http:// is supported (no TLS), got '" + std::string(u.scheme()) + "'"
        );
    if (u.encoded_host().empty())
        throw usage_error("--url: '" + text + "' has no host");
    o.url = text;
    o.host = std::string(u.encoded_host_address());
    o.port = u.has_port() ? std::string(u.port()) : std::string("80");
    o.authority = std::string(u.encoded_host_and_port());
    o.target = std::string(u.encoded_path());
    if (o.target.empty())
        o.target = "/";
    if (u.has_query())
        o.target += "?" + std::string(u.encoded_query());
}

void add_header(options& o, const std::string& text)
{
    auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0)
        throw usage_error("-H: expected 'Name: value', got '" + text + "'");
    if (text.find_first_of("\r\n") != std::string::npos)
        throw usage_error("-H: header must not contain CR or LF");
    std::string name = text.substr(0, colon);
    if (name.find_first_of(" \t") != std::string::npos)
        throw usage_error("-H: header name '" + name + "' contains whitespace");
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding"))
        throw usage_error("-H: " + name + " is set by mb-load itself");
    auto start = text.find_first_not_of(" \t", colon + 1);
    o.headers.emplace_back(std::move(name), start == std::string::npos ? "" : text.substr(start));
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw usage_error("--body-file: cannot open '" + path + "'");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void check(const options& o, bool duration_given, bool body_file_given, bool body_given)
{
    if (o.url.empty())
        throw usage_error("--url is required");
    if (duration_given && o.requests)
        throw usage_error("--duration and --requests are mutually exclusive");
    if (body_file_given && body_given)
        throw usage_error("--body and --body-file are mutually exclusive");
    if (o.threads > o.connections)
        throw usage_error("--threads must not exceed --connections");
    if (!o.sign_key && !o.sign_url.empty())
        throw usage_error("--sign-url needs --sign-mode-webhook");
    if (o.unique_body_field && !o.body)
        throw usage_error("--unique-body-field needs --body or --body-file (a JSON object)");
}

} // namespace

std::chrono::nanoseconds parse_duration(const std::string& text, const std::string& what)
{
    auto unit_at = text.find_first_not_of("0123456789.");
    std::string number = text.substr(0, unit_at);
    std::string unit = unit_at == std::string::npos ? "s" : text.substr(unit_at);
    double scale = 0;
    if (unit == "s")
        scale = 1e9;
    else if (unit == "ms")
        scale = 1e6;
    else if (unit == "us")
        scale = 1e3;
    else if (unit == "m")
        scale = 60e9;
    else if (unit == "h")
        scale = 3600e9;
    else
        throw usage_error(what + ": unknown unit in '" + text + "' (use h, m, s, ms or us)");
    double value = parse_number<double>(number, what);
    double ns = value * scale;
    if (!std::isfinite(ns) || ns > 1e18)
        throw usage_error(what + ": '" + text + "' is out of range");
    return std::chrono::nanoseconds(std::llround(ns));
}

std::optional<options> parse_options(const std::vector<std::string>& args)
{
    options o;
    bool duration_given = false, body_file_given = false, body_given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i], value;
        bool inline_value = false;
        if (auto eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            inline_value = true;
        }
        auto next = [&]() -> const std::string& {
            if (inline_value)
                return value;
            if (i + 1 >= args.size())
                throw usage_error(name + " needs a value");
            return args[++i];
        };
        auto flag = [&] {
            if (inline_value)
                throw usage_error(name + " takes no value");
        };
        if (name == "-h" || name == "--help") {
            return std::nullopt;
        } else if (name == "--url") {
            set_url(o, next());
        } else if (name == "--method" || name == "-X") {
            o.method = next();
            if (o.method.empty() || o.method.find_first_of(" \t\r\n") != std::string::npos)
                throw usage_error(name + ": invalid method '" + o.method + "'");
        } else if (name == "-H" || name == "--header") {
            add_header(o, next());
        } else if (name == "--body") {
            o.body = next();
            body_given = true;
        } else if (name == "--body-file") {
            o.body = read_file(next());
            body_file_given = true;
        } else if (name == "--connections" || name == "-c") {
            o.connections = parse_count(next(), name, max_connections);
        } else if (name == "--threads" || name == "-t") {
            o.threads = parse_count(next(), name, max_threads);
        } else if (name == "--duration" || name == "-d") {
            o.duration = parse_duration(next(), name);
            duration_given = true;
            if (o.duration.count() <= 0)
                throw usage_error(name + ": must be positive");
        } else if (name == "--requests" || name == "-n") {
            o.requests = parse_count(next(), name, SIZE_MAX);
        } else if (name == "--warmup") {
            o.warmup = parse_duration(next(), name);
        } else if (name == "--timeout") {
            o.timeout = parse_duration(next(), name);
            if (o.timeout.count() <= 0)
                throw usage_error(name + ": must be positive");
        } else if (name == "--honor-retry-after") {
            o.honor_retry_after = true;
        } else if (name == "--rate" || name == "-R") {
            o.rate = parse_number<double>(next(), name);
            if (!std::isfinite(*o.rate) || *o.rate <= 0 || *o.rate > 1e8)
                throw usage_error(name + ": must be a positive number of requests per second");
        } else if (name == "--json") {
            flag();
            o.json = true;
        } else if (name == "--label") {
            o.label = next();
        } else if (name == "--sign-mode-webhook") {
            o.sign_key = next();
            if (o.sign_key->empty())
                throw usage_error(name + ": the key must not be empty");
        } else if (name == "--sign-url") {
            o.sign_url = next();
        } else if (name == "--unique-body-field") {
            o.unique_body_field = next();
            if (o.unique_body_field->empty())
                throw usage_error(name + ": the member name must not be empty");
        } else {
            throw usage_error("unknown argument '" + args[i] + "'");
        }
    }
    check(o, duration_given, body_file_given, body_given);
    if (o.sign_key && o.sign_url.empty())
        o.sign_url = o.url;
    return o;
}

std::string usage_text()
{
    return R"(mb-load: HTTP/1.1 load generator for modebridge's benchmarks (plain http, keep-alive).

Usage: mb-load --url http://HOST[:PORT]/PATH [options]

Request
  --url URL                  target (required; http:// only)
  --method, -X M             request method (default GET)
  -H, --header 'Name: value' extra header, repeatable. Host, User-Agent and, when there is a body,
                             Content-Type (application/json) get defaults unless given here
  --body STRING              request body
  --body-file FILE           request body read from FILE
  --sign-mode-webhook KEY    add X-Mode-Signature: hex HMAC-SHA256(KEY, SIGN_URL + body)
  --sign-url URL             the URL string the receiver signs with (default: --url)
  --unique-body-field NAME   the body must be a JSON object; its top-level member NAME (added if
                             absent) gets a fresh counter per request, so no two bodies are equal.
                             Counters start at a random point so runs and processes do not collide

Load
  --connections, -c N        keep-alive connections (default 64)
  --threads, -t N            I/O threads, each running its share of connections (default 1)
  --duration, -d T           measured time, e.g. 10s, 500ms, 2m (default 10s)
  --requests, -n N           stop after N measured requests instead (not with --duration)
  --warmup T                 load applied before measuring, excluded from every figure (default 2s)
  --rate, -R R               open loop: R requests/s in total, on a fixed schedule; latency counts
                             from the scheduled time (no coordinated omission). Default: closed
                             loop, each connection sends when its previous answer arrived
  --timeout T                limit for each connect and for each request (default 5s)
  --honor-retry-after        after a 429 or 503 with Retry-After, the connection waits that long
                             before its next request, as a well-behaved client does

Report
  --label NAME               name of the run in the report
  --json                     one JSON object on stdout instead of text
  -h, --help                 this text

Prints completed requests, requests/s, latency p50/p90/p99/p99.9/max in ms, status-code counts
and errors (connect, timeout, closed, other). Broken connections are reopened and counted.
Exit status: 0 when at least one 2xx/3xx answer was measured, 1 when none was, 2 for bad arguments.
)";
}

} // namespace bench::load
