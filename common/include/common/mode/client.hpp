#pragma once

#include "common/client/http_client.hpp"
#include "common/metrics.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace common::mode {

/** How a MODE call failed. */
enum class failure {
    rejected,    ///< MODE answered 4xx with a reason (its own decision about the request)
    unavailable, ///< MODE could not be reached, or answered 5xx
    timeout,     ///< no complete answer within the deadline
    bad_answer,  ///< an answer that is not what the API promises
    /// a write whose connection broke after (some of) it was sent: MODE may have carried it out; it is
    /// not sent again
    outcome_unknown,
};

/** A failed MODE call. `reason` is MODE's upper-case reason (rejected) or empty. Never holds keys. */
class error : public std::runtime_error
{
public:
    error(failure kind, unsigned status, std::string reason, const std::string& what);
    failure kind() const noexcept { return kind_; }
    unsigned status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    failure kind_;
    unsigned status_;
    std::string reason_;
};

/** Where a page of a MODE list sits, from its `vnd.tinkermode.range: first-last/total` header; an
    empty page has `*` before the slash, and count 0. */
struct range
{
    std::size_t first = 0;
    std::size_t last = 0;
    std::size_t count = 0;
    std::size_t total = 0;
};

/** The range header's value, or nullopt when malformed. */
std::optional<range> parse_range(std::string_view header);

/** A MODE path as a bounded metric label: the query dropped, and every segment that is not a plain
    lower-case word (ids, keys, names) replaced by `{id}`: `/homes/12/members?skip=0` → `/homes/{id}/members`. */
std::string endpoint_template(std::string_view path);

/**
 * MODE's REST API (mode-api.md) over the shared HTTP client. Every call names its credential: the
 * project key for BYOU administration, a user's key for everything done on their behalf. Only GET and
 * HEAD calls are retried after a dropped connection (http_client's rules); a write that may have
 * reached MODE is never sent again (a command would move the device twice): it fails with
 * `outcome_unknown`.
 * Thread-safety: shared; calls may run concurrently from any coroutine.
 */
class client
{
public:
    /** With `metrics`, every call is counted in `mb_mode_requests_total{method,endpoint,outcome}` and
        timed in `mb_mode_request_duration_seconds{method,endpoint}` (endpoint_template of its path). */
    client(common::client::http_client& http, std::string base_url, std::chrono::milliseconds timeout,
           metrics::registry* metrics = nullptr)
        : client([&http](common::client::request req) { return http.send(std::move(req)); }, std::move(base_url),
                 timeout, metrics)
    {}

    /** What sends a request and returns MODE's complete answer, as http_client::send does (throwing
        common::client::error). The fuzz tests answer with their own responses through it. */
    using transport = std::function<net::awaitable<common::client::response>(common::client::request)>;
    client(transport send, std::string base_url, std::chrono::milliseconds timeout,
           metrics::registry* metrics = nullptr);

    /** A JSON call: `body` (if any) sent as application/json. Returns the parsed answer (null when
        the answer has no body). Throws `error`. */
    net::awaitable<json::value> call(http::verb method, std::string_view path, std::string_view key,
                                     const json::value* body = nullptr,
                                     std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    /** Like `call`, but returns a successful answer's body as MODE sent it (unparsed), for answers that
        are passed on as they are. */
    net::awaitable<std::string> call_raw(http::verb method, std::string_view path, std::string_view key,
                                         const json::value* body = nullptr,
                                         std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    /** Every item of a paged MODE list (`GET path`, which may carry a query of its own), read page by
        page with `skip`/`limit` and following `vnd.tinkermode.range` until its total. A list without
        the header is taken as complete. Throws `error` (bad_answer for pages that do not add up). */
    net::awaitable<json::array> list_all(std::string_view path, std::string_view key, std::size_t page_size = 100);

    /** A form call (application/x-www-form-urlencoded), as `POST /auth/user` takes. */
    net::awaitable<json::value> call_form(http::verb method, std::string_view path, std::string_view key,
                                          std::string form,
                                          std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    /** BYOU: `POST /users` with the project key; returns the new MODE user id. */
    net::awaitable<std::int64_t> create_user(std::string_view project_key, std::int64_t project_id,
                                             std::string_view external_key,
                                             std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    /** BYOU: `POST /auth/user` with the project key; returns that user's API key. */
    net::awaitable<std::string> issue_user_key(std::string_view project_key, std::int64_t project_id,
                                               std::int64_t user_id,
                                               std::optional<std::chrono::milliseconds> timeout = std::nullopt);

private:
    static common::client::request make_request(http::verb method, std::string url, std::string_view key,
                                                const json::value* body);
    /** Sends; returns the body of a 2xx answer, throws `error` for anything else. */
    net::awaitable<std::string> exchange(common::client::request req, std::string_view path);
    net::awaitable<common::client::response> exchange_full(common::client::request req, std::string_view path);
    net::awaitable<json::value> send(common::client::request req, std::string_view path);

    /** Counts one call (`outcome`: "2xx".."5xx", "timeout", "unreachable", "bad_response"). */
    void record(http::verb method, std::string_view path, std::string_view outcome, double seconds);

    transport send_;
    std::string base_url_;
    std::chrono::milliseconds timeout_;
    metrics::registry* metrics_;
    // The metric handles of each (method, endpoint, outcome), looked up in the registry once.
    std::mutex metrics_mutex_;
    std::unordered_map<std::string, std::pair<metrics::counter*, metrics::histogram*>> handles_;
};

} // namespace common::mode
