#include "common/mode/client.hpp"

#include "common/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace common::mode {

error::error(failure kind, unsigned status, std::string reason, const std::string& what)
    : std::runtime_error(what)
    , kind_(kind)
    , status_(status)
    , reason_(std::move(reason))
{
}

namespace {

// MODE's reasons become part of our codes: keep them to the shape they are documented with.
std::string sanitize_reason(std::string_view r)
{
    std::string out;
    for (char c : r.substr(0, 64)) {
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            out.push_back(c);
        else if (c >= 'a' && c <= 'z')
            out.push_back(static_cast<char>(c - 'a' + 'A'));
        else
            out.push_back('_');
    }
    return out.empty() ? "ERROR" : out;
}

} // namespace

std::string endpoint_template(std::string_view path)
{
    path = path.substr(0, path.find_first_of("?#"));
    std::string out;
    std::size_t segments = 0;
    while (!path.empty() && segments < 8) {
        if (path.front() == '/')
            path.remove_prefix(1);
        auto end = path.find('/');
        auto seg = path.substr(0, end);
        path = end == std::string_view::npos ? std::string_view() : path.substr(end);
        ++segments;
        bool word = !seg.empty() && seg.size() <= 24 &&
                    std::all_of(seg.begin(), seg.end(), [](char c) { return c >= 'a' && c <= 'z'; });
        out += '/';
        out += word ? std::string(seg) : std::string("{id}");
    }
    if (!path.empty())
        out += "/...";
    return out.empty() ? "/" : out;
}

client::client(transport send, std::string base_url, std::chrono::milliseconds timeout, metrics::registry* m)
    : send_(std::move(send))
    , base_url_(std::move(base_url))
    , timeout_(timeout)
    , metrics_(m)
{
    while (!base_url_.empty() && base_url_.back() == '/')
        base_url_.pop_back();
}

common::client::request client::make_request(http::verb method, std::string url, std::string_view key,
                                              const json::value* body)
{
    common::client::request req;
    req.method = method;
    req.url = std::move(url);
    // Only reads may be sent twice. A write that may have reached MODE is never sent again, whatever HTTP
    // says of its method: a PUT .../command moves a device, and a second one is a second actuation.
    req.idempotent = method == http::verb::get || method == http::verb::head;
    req.headers.reserve(2);
    req.headers.emplace_back("Authorization", "ModeCloud " + std::string(key));
    req.headers.emplace_back("Accept", "application/json");
    if (body != nullptr) {
        req.body = json::serialize(*body);
        req.content_type = "application/json";
    }
    return req;
}

net::awaitable<std::string> client::exchange(common::client::request req, std::string_view path)
{
    auto res = co_await exchange_full(std::move(req), path);
    co_return std::move(res.body);
}

net::awaitable<common::client::response> client::exchange_full(common::client::request req, std::string_view path)
{
    if (!req.timeout)
        req.timeout = timeout_;
    auto method = req.method;
    const bool retryable = req.idempotent.value_or(true);
    // Names the call in errors and logs; never the key or the body.
    auto what = [&] { return fmt::format("{} {}", std::string(http::to_string(method)), path); };
    common::client::response res;
    const auto started = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    try {
        res = co_await send_(std::move(req));
    } catch (const common::client::error& e) {
        record(method, path, common::client::to_string(e.kind()), seconds());
        auto kind = e.kind() == common::client::error_kind::timeout       ? failure::timeout
                    : e.kind() == common::client::error_kind::bad_response ? failure::bad_answer
                    : !retryable && e.request_sent()                       ? failure::outcome_unknown
                                                                            : failure::unavailable;
        throw error(kind, 0, "", fmt::format("MODE {}: {}", what(), e.what()));
    }
    static constexpr const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    record(method, path, res.status >= 100 && res.status < 600 ? classes[res.status / 100 - 1] : "bad_response",
           seconds());
    if (res.status >= 200 && res.status < 300)
        co_return res;
    std::string reason;
    boost::system::error_code ec;
    auto body = json::parse(res.body, ec);
    if (!ec && body.is_object())
        if (auto* r = body.as_object().if_contains("reason"); r != nullptr && r->is_string())
            reason = sanitize_reason(std::string_view(r->get_string()));
    if (res.status >= 500)
        throw error(failure::unavailable, res.status, reason,
                    fmt::format("MODE {}: answered {} {}", what(), res.status, reason));
    if (res.status >= 400)
        throw error(failure::rejected, res.status, reason.empty() ? "ERROR" : reason,
                    fmt::format("MODE {}: answered {} {}", what(), res.status, reason));
    throw error(failure::bad_answer, res.status, "", fmt::format("MODE {}: unexpected status {}", what(), res.status));
}

void client::record(http::verb method, std::string_view path, std::string_view outcome, double seconds)
{
    if (metrics_ == nullptr)
        return;
    auto endpoint = endpoint_template(path);
    auto verb = http::to_string(method);
    std::string key;
    key.append(verb.data(), verb.size()).append(" ").append(endpoint).append(" ").append(outcome);
    std::pair<metrics::counter*, metrics::histogram*> h{nullptr, nullptr};
    {
        std::lock_guard lock(metrics_mutex_);
        if (auto it = handles_.find(key); it != handles_.end())
            h = it->second;
    }
    if (h.first == nullptr) {
        std::string m(verb);
        h.first = &metrics_->counter_for("mb_mode_requests_total", "Calls to MODE by endpoint and outcome",
                                         {{"method", m}, {"endpoint", endpoint}, {"outcome", std::string(outcome)}});
        h.second = &metrics_->histogram_for("mb_mode_request_duration_seconds",
                                            "Time from a MODE call sent to its answer (or failure)",
                                            {{"method", m}, {"endpoint", endpoint}});
        std::lock_guard lock(metrics_mutex_);
        handles_.emplace(std::move(key), h);
    }
    h.first->inc();
    h.second->observe(seconds);
}

net::awaitable<json::value> client::send(common::client::request req, std::string_view path)
{
    auto method = req.method;
    auto raw = co_await exchange(std::move(req), path);
    if (raw.empty())
        co_return json::value();
    boost::system::error_code ec;
    auto body = json::parse(raw, ec);
    if (ec)
        throw error(failure::bad_answer, 200, "",
                    fmt::format("MODE {} {}: answered with a body that is not JSON", std::string(http::to_string(method)),
                                path));
    co_return body;
}

net::awaitable<json::value> client::call(http::verb method, std::string_view path, std::string_view key,
                                         const json::value* body, std::optional<std::chrono::milliseconds> timeout)
{
    auto req = make_request(method, base_url_ + std::string(path), key, body);
    req.timeout = timeout;
    co_return co_await send(std::move(req), path);
}

net::awaitable<std::string> client::call_raw(http::verb method, std::string_view path, std::string_view key,
                                             const json::value* body, std::optional<std::chrono::milliseconds> timeout)
{
    auto req = make_request(method, base_url_ + std::string(path), key, body);
    req.timeout = timeout;
    co_return co_await exchange(std::move(req), path);
}

std::optional<range> parse_range(std::string_view h)
{
    auto slash = h.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    auto number = [](std::string_view s, std::size_t& out) {
        if (s.empty() || s.size() > 18)
            return false;
        out = 0;
        for (char c : s) {
            if (c < '0' || c > '9')
                return false;
            out = out * 10 + static_cast<std::size_t>(c - '0');
        }
        return true;
    };
    range r;
    if (!number(h.substr(slash + 1), r.total))
        return std::nullopt;
    auto span = h.substr(0, slash);
    if (span == "*")
        return r; // nothing on this page
    auto dash = span.find('-');
    if (dash == std::string_view::npos || !number(span.substr(0, dash), r.first) ||
        !number(span.substr(dash + 1), r.last) || r.last < r.first || r.last >= r.total)
        return std::nullopt;
    r.count = r.last - r.first + 1;
    return r;
}

net::awaitable<json::array> client::list_all(std::string_view path, std::string_view key, std::size_t page_size)
{
    json::array all;
    const char* sep = path.find('?') == std::string_view::npos ? "?" : "&";
    std::size_t skip = 0;
    // Bounded: a list that keeps growing while it is read cannot keep us here forever.
    for (int pages = 0; pages < 10'000; ++pages) {
        auto page_path = fmt::format("{}{}skip={}&limit={}", path, sep, skip, page_size);
        auto req = make_request(http::verb::get, base_url_ + page_path, key, nullptr);
        auto res = co_await exchange_full(std::move(req), page_path);
        boost::system::error_code ec;
        auto body = json::parse(res.body, ec);
        if (ec || !body.is_array())
            throw error(failure::bad_answer, res.status, "", fmt::format("MODE GET {}: answer is not a list", path));
        auto& items = body.as_array();
        auto header = res.headers["vnd.tinkermode.range"];
        if (header.empty())
            co_return std::move(items); // not paged: the whole list
        auto r = parse_range(std::string_view(header.data(), header.size()));
        if (!r || r->count != items.size() || (r->count != 0 && r->first != skip))
            throw error(failure::bad_answer, res.status, "",
                        fmt::format("MODE GET {}: a page whose range does not match it", path));
        for (auto& v : items)
            all.push_back(std::move(v));
        if (r->count == 0 || r->last + 1 >= r->total)
            co_return all;
        skip = r->last + 1;
    }
    throw error(failure::bad_answer, 200, "", fmt::format("MODE GET {}: the list does not end", path));
}

net::awaitable<json::value> client::call_form(http::verb method, std::string_view path, std::string_view key,
                                              std::string form, std::optional<std::chrono::milliseconds> timeout)
{
    auto req = make_request(method, base_url_ + std::string(path), key, nullptr);
    req.body = std::move(form);
    req.content_type = "application/x-www-form-urlencoded";
    req.timeout = timeout;
    co_return co_await send(std::move(req), path);
}

net::awaitable<std::int64_t> client::create_user(std::string_view project_key, std::int64_t project_id,
                                                 std::string_view external_key,
                                                 std::optional<std::chrono::milliseconds> timeout)
{
    json::value body = json::object{{"projectId", project_id}, {"externalKey", external_key}};
    auto answer = co_await call(http::verb::post, "/users", project_key, &body, timeout);
    if (answer.is_object())
        if (auto* id = answer.as_object().if_contains("id"); id != nullptr && id->is_int64())
            co_return id->get_int64();
    throw error(failure::bad_answer, 201, "", "MODE POST /users: answer without a user id");
}

net::awaitable<std::string> client::issue_user_key(std::string_view project_key, std::int64_t project_id,
                                                   std::int64_t user_id,
                                                   std::optional<std::chrono::milliseconds> timeout)
{
    auto form = fmt::format("projectId={}&userId={}", project_id, user_id);
    auto answer = co_await call_form(http::verb::post, "/auth/user", project_key, std::move(form), timeout);
    if (answer.is_object())
        if (auto* t = answer.as_object().if_contains("token"); t != nullptr && t->is_string() && !t->get_string().empty())
            co_return std::string(t->get_string());
    throw error(failure::bad_answer, 200, "", "MODE POST /auth/user: answer without a token");
}

} // namespace common::mode
