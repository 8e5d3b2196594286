#include "common/web/json_body.hpp"

#include "common/web/problem.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace common::web {

namespace {

[[noreturn]] void invalid(std::string_view key, std::string_view expected)
{
    throw bad_request("INVALID_REQUEST", std::string(key) + ": " + std::string(expected));
}

bool is_json_media_type(std::string_view ct)
{
    auto semi = ct.find(';');
    auto base = ct.substr(0, semi);
    while (!base.empty() && base.back() == ' ')
        base.remove_suffix(1);
    std::string lower;
    for (char c : base)
        lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    return lower == "application/json" || (lower.size() > 5 && lower.ends_with("+json"));
}

} // namespace

bool contains_nul(const json::value& v, std::string* member)
{
    switch (v.kind()) {
    case json::kind::string:
        return v.get_string().find('\0') != json::string::npos;
    case json::kind::array:
        for (const auto& item : v.get_array())
            if (contains_nul(item, member))
                return true;
        return false;
    case json::kind::object:
        for (const auto& kv : v.get_object()) {
            auto key = kv.key();
            bool in_key = key.find('\0') != json::string_view::npos;
            if (in_key || contains_nul(kv.value(), member)) {
                if (member != nullptr && member->empty() && !in_key)
                    *member = std::string(key);
                return true;
            }
        }
        return false;
    default:
        return false;
    }
}

json::object parse_json_object(const request& req)
{
    auto ct = req[http::field::content_type];
    if (!ct.empty() && !is_json_media_type(std::string_view(ct.data(), ct.size())))
        throw problem(http::status::unsupported_media_type, "UNSUPPORTED_MEDIA_TYPE",
                      "the request body must be application/json");
    boost::system::error_code ec;
    json::value v = json::parse(req.body(), ec);
    if (ec)
        throw bad_request("MALFORMED_JSON", "the request body is not valid JSON");
    if (!v.is_object())
        throw bad_request("INVALID_REQUEST", "the request body must be a JSON object");
    // PostgreSQL text cannot hold U+0000, and no field of ours has a use for it: refused up front, for
    // every member at any depth (names, emails, passwords, tokens, bodies passed on to MODE).
    if (std::string where; contains_nul(v, &where))
        throw bad_request("INVALID_REQUEST",
                          (where.empty() ? std::string("the request body") : where) + ": must not contain U+0000");
    return std::move(v.as_object());
}

std::optional<std::string_view> optional_string(const json::object& o, std::string_view key)
{
    const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
    if (v == nullptr || v->is_null())
        return std::nullopt;
    if (!v->is_string())
        invalid(key, "must be a string");
    const auto& s = v->get_string();
    return std::string_view(s.data(), s.size());
}

std::string_view require_string(const json::object& o, std::string_view key)
{
    auto s = optional_string(o, key);
    if (!s)
        invalid(key, "is required (a string)");
    return *s;
}

std::optional<std::int64_t> optional_int(const json::object& o, std::string_view key)
{
    const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
    if (v == nullptr || v->is_null())
        return std::nullopt;
    if (v->is_int64())
        return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v->get_uint64());
    invalid(key, "must be an integer");
}

std::int64_t require_int(const json::object& o, std::string_view key)
{
    auto n = optional_int(o, key);
    if (!n)
        invalid(key, "is required (an integer)");
    return *n;
}

const json::object& require_object(const json::object& o, std::string_view key)
{
    const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
    if (v == nullptr || !v->is_object())
        invalid(key, "is required (an object)");
    return v->get_object();
}

response json_response(const request& req, http::status status, const json::value& body)
{
    response res{status, req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = json::serialize(body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

response json_response(const request& req, http::status status, std::string serialized)
{
    response res{status, req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(serialized);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

response empty_response(const request& req, http::status status)
{
    response res{status, req.version()};
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

} // namespace common::web
