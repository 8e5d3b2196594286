#include "body.hpp"

#include "errors.hpp"

#include "common/web/router.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include <charconv>

namespace modesim {

namespace json = boost::json;

namespace {

const json::value* member(const json::object& o, std::string_view key)
{
    const json::value* v = o.if_contains(js(key));
    return v == nullptr || v->is_null() ? nullptr : v;
}

std::string lower_media_type(std::string_view ct)
{
    ct = ct.substr(0, ct.find(';'));
    std::string out;
    for (char c : ct)
        if (c != ' ' && c != '\t')
            out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    return out;
}

// application/x-www-form-urlencoded decoding ('+' is a space, %XX a byte). Written out rather than taken
// from Boost.URL 1.81, whose param views decode past the end of a query that is not NUL-terminated.
std::optional<std::string> form_decode(std::string_view in)
{
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= in.size())
                return std::nullopt;
            int hi = hex(in[i + 1]);
            int lo = hex(in[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

params decode_query(std::string_view text, std::string_view what)
{
    params out;
    while (!text.empty()) {
        auto amp = text.find('&');
        auto pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (pair.empty())
            continue;
        auto eq = pair.find('=');
        auto key = form_decode(pair.substr(0, eq));
        auto value = form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!key || !value)
            throw invalid_input(what, "MALFORMED");
        out.emplace(std::move(*key), std::move(*value)); // the first of a repeated name wins
    }
    return out;
}

} // namespace

std::optional<std::int64_t> parse_int(std::string_view s)
{
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return n;
}

json::object json_body(const common::web::request& req)
{
    const std::string& body = req.body();
    if (body.find_first_not_of(" \t\r\n") == std::string::npos)
        return {};
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object())
        throw invalid_input("body", "MALFORMED");
    return std::move(v.as_object());
}

std::optional<std::int64_t> opt_int(const json::object& o, std::string_view key)
{
    const json::value* v = member(o, key);
    if (v == nullptr)
        return std::nullopt;
    if (v->is_int64())
        return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v->get_uint64());
    throw invalid_input(key, "INVALID");
}

std::int64_t req_int(const json::object& o, std::string_view key)
{
    auto n = opt_int(o, key);
    if (!n)
        throw invalid_input(key, "REQUIRED");
    return *n;
}

std::optional<std::string> opt_string(const json::object& o, std::string_view key)
{
    const json::value* v = member(o, key);
    if (v == nullptr)
        return std::nullopt;
    if (!v->is_string())
        throw invalid_input(key, "INVALID");
    return std::string(v->get_string());
}

std::string req_string(const json::object& o, std::string_view key)
{
    auto s = opt_string(o, key);
    if (!s || s->empty())
        throw invalid_input(key, "REQUIRED");
    return std::move(*s);
}

std::optional<bool> opt_bool(const json::object& o, std::string_view key)
{
    const json::value* v = member(o, key);
    if (v == nullptr)
        return std::nullopt;
    if (!v->is_bool())
        throw invalid_input(key, "INVALID");
    return v->get_bool();
}

std::optional<json::object> opt_object(const json::object& o, std::string_view key)
{
    const json::value* v = member(o, key);
    if (v == nullptr)
        return std::nullopt;
    if (!v->is_object())
        throw invalid_input(key, "INVALID");
    return v->get_object();
}

params form_body(const common::web::request& req)
{
    auto ct = req[http::field::content_type];
    if (lower_media_type(std::string_view(ct.data(), ct.size())) != "application/x-www-form-urlencoded")
        return {};
    return decode_query(req.body(), "body");
}

params query_params(const common::web::request& req)
{
    std::string_view target(req.target().data(), req.target().size());
    auto q = target.find('?');
    if (q == std::string_view::npos)
        return {};
    auto query = target.substr(q + 1);
    return decode_query(query.substr(0, query.find('#')), "query");
}

std::optional<std::int64_t> param_int(const params& p, std::string_view key)
{
    auto it = p.find(key);
    if (it == p.end())
        return std::nullopt;
    auto n = parse_int(it->second);
    if (!n)
        throw invalid_input(key, "INVALID");
    return n;
}

paging paging_params(const params& p)
{
    paging pg;
    if (auto skip = param_int(p, "skip")) {
        if (*skip < 0)
            throw invalid_input("skip", "INVALID");
        pg.skip = static_cast<std::size_t>(*skip);
    }
    if (auto limit = param_int(p, "limit")) {
        if (*limit < 1)
            throw invalid_input("limit", "INVALID");
        pg.limit = static_cast<std::size_t>(*limit);
    }
    return pg;
}

object_id path_id(const common::web::request_context& ctx, std::string_view name, std::string_view not_found_reason)
{
    auto n = parse_int(ctx.params.at(name));
    if (!n || *n <= 0)
        throw not_found(not_found_reason);
    return *n;
}

std::string path_text(const common::web::request_context& ctx, std::string_view name)
{
    const std::string& raw = ctx.params.at(name);
    auto pct = boost::urls::make_pct_string_view(boost::urls::string_view(raw.data(), raw.size()));
    return pct ? pct->decode() : raw;
}

} // namespace modesim
