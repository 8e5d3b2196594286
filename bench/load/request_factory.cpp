#include "request_factory.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <random>

namespace bench::load {
namespace {

char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool has_header(const options& o, std::string_view name)
{
    for (const auto& h : o.headers) {
        if (std::equal(
                h.first.begin(),
                h.first.end(),
                name.begin(),
                name.end(),
                [](char a, char b) { return lower(a) == lower(b); }
            ))
            return true;
    }
    return false;
}

// A counter start that two runs, or two processes side by side, are very unlikely to share: a
// random 20-bit high part leaves 2^32 requests per run below 2^52, so the value stays exact even
// for receivers that read JSON numbers as doubles.
std::uint64_t random_counter_start()
{
    std::random_device rd;
    std::uint64_t high = rd() & 0xFFFFFu;
    return high << 32;
}

// Stands in for the counter while the body is re-serialized; then the text is split around it.
constexpr std::string_view placeholder = "mb-load-counter-3f9c1d";

} // namespace

request_factory::request_factory(const options& o)
    : counter_(random_counter_start())
{
    head_ = o.method + " " + o.target + " HTTP/1.1\r\n";
    if (!has_header(o, "Host"))
        head_ += "Host: " + o.authority + "\r\n";
    if (!has_header(o, "User-Agent"))
        head_ += "User-Agent: mb-load\r\n";
    if (o.body && !o.body->empty() && !has_header(o, "Content-Type"))
        head_ += "Content-Type: application/json\r\n";
    for (const auto& [name, value] : o.headers)
        head_ += name + ": " + value + "\r\n";

    // A body, or a method that normally carries one, gets a Content-Length (0 when empty).
    send_length_ = o.body || o.method == "POST" || o.method == "PUT" || o.method == "PATCH";
    body_ = o.body.value_or("");
    if (o.unique_body_field)
        split_body(o);
    if (o.sign_key) {
        sign_key_ = *o.sign_key;
        sign_url_ = o.sign_url;
    }
    varies_ = with_counter_ || o.sign_key;
    if (!varies_) {
        fixed_ = head_;
        append_tail(fixed_, body_);
    }
}

void request_factory::split_body(const options& o)
{
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(body_, ec);
    if (ec || !doc.is_object())
        throw usage_error("--unique-body-field: the body must be a JSON object");
    auto& obj = doc.as_object();
    const std::string& field = *o.unique_body_field;
    if (auto* old = obj.if_contains(field))
        quoted_ = old->is_string();
    obj[field] = boost::json::string(placeholder);
    std::string text = boost::json::serialize(doc);
    std::string quoted_placeholder = "\"" + std::string(placeholder) + "\"";
    auto at = text.find(quoted_placeholder);
    if (at == std::string::npos || text.find(quoted_placeholder, at + 1) != std::string::npos)
        throw usage_error(
            "--unique-body-field: the body must not contain '" + std::string(placeholder) + "'"
        );
    prefix_ = text.substr(0, at) + (quoted_ ? "\"" : "");
    suffix_ = (quoted_ ? "\"" : "") + text.substr(at + quoted_placeholder.size());
    with_counter_ = true;
}

void request_factory::append_tail(std::string& out, std::string_view body) const
{
    if (send_length_ || !body.empty()) {
        out += "Content-Length: ";
        out += std::to_string(body.size());
        out += "\r\n";
    }
    if (!sign_key_.empty()) {
        std::string signed_text = sign_url_;
        signed_text += body;
        out += "X-Mode-Signature: ";
        out += common::crypto::hmac_sha256_hex(sign_key_, signed_text);
        out += "\r\n";
    }
    out += "\r\n";
    out += body;
}

std::string_view request_factory::next(std::string& scratch)
{
    if (!varies_)
        return fixed_;
    std::string body;
    if (with_counter_) {
        auto n = counter_.fetch_add(1, std::memory_order_relaxed);
        body = prefix_ + std::to_string(n) + suffix_;
    } else {
        body = body_;
    }
    scratch = head_;
    append_tail(scratch, body);
    return scratch;
}

} // namespace bench::load
