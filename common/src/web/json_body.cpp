#include "common/web/json_body.hpp"

#include "common/web/problem.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

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

json_limits limits_in_force;

/** Object members and array elements of `v`, at any depth; stops counting past `cap`. */
std::size_t count_members(const json::value& v, std::size_t cap)
{
    std::size_t n = 0;
    auto walk = [&](auto& self, const json::value& x) -> void {
        if (n > cap)
            return;
        if (const auto* a = x.if_array()) {
            n += a->size();
            for (const auto& item : *a)
                self(self, item);
        } else if (const auto* o = x.if_object()) {
            n += o->size();
            for (const auto& kv : *o)
                self(self, kv.value());
        }
    };
    walk(walk, v);
    return n;
}

} // namespace

void set_json_limits(json_limits l)
{
    limits_in_force = l;
}

const json_limits& current_json_limits() noexcept
{
    return limits_in_force;
}

json::value parse_json_limited(std::string_view text, json_fault& fault)
{
    const auto& l = current_json_limits();
    json::parse_options opt;
    opt.max_depth = l.max_depth;
    boost::system::error_code ec;
    fault = json_fault::none;
    json::value v = json::parse(text, ec, {}, opt);
    if (ec == json::error::too_deep)
        fault = json_fault::too_deep;
    else if (ec)
        fault = json_fault::malformed;
    else if (count_members(v, l.max_members) > l.max_members)
        fault = json_fault::too_large;
    if (fault != json_fault::none)
        return json::value();
    return v;
}

std::string describe(json_fault f)
{
    const auto& l = current_json_limits();
    switch (f) {
    case json_fault::malformed:
        return "the request body is not valid JSON";
    case json_fault::too_deep:
        return fmt::format("the request body nests arrays and objects deeper than {} levels", l.max_depth);
    case json_fault::too_large:
        return fmt::format("the request body has more than {} members and elements", l.max_members);
    case json_fault::none:
        break;
    }
    return "the request body is fine";
}

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
    json_fault fault = json_fault::none;
    json::value v = parse_json_limited(req.body(), fault);
    if (fault == json_fault::too_deep)
        throw bad_request("JSON_TOO_DEEP", describe(fault));
    if (fault == json_fault::too_large)
        throw problem(http::status::payload_too_large, "JSON_TOO_LARGE", describe(fault));
    if (fault != json_fault::none)
        throw bad_request("MALFORMED_JSON", describe(fault));
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
