#include "client/request_target.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace common::client::detail {
namespace {

// RFC 9110 token characters.
bool is_token(std::string_view s)
{
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

bool is_field_value(std::string_view s)
{
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

} // namespace

request_target parse_target(std::string_view url)
{
    // The URL itself may hold credentials in its query, so it is never quoted in an error.
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed)
        throw std::invalid_argument("http_client: the URL is not an absolute URI");
    const boost::urls::url_view& u = *parsed;
    request_target t;
    const auto scheme = u.scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
        throw std::invalid_argument("http_client: the URL scheme must be http or https");
    t.tls = scheme == boost::urls::scheme::https;
    t.host = u.host_address();
    if (t.host.empty() || u.host_type() == boost::urls::host_type::ipvfuture)
        throw std::invalid_argument("http_client: the URL has no usable host");

    const unsigned default_port = t.tls ? 443 : 80;
    unsigned port = default_port;
    const auto port_text = u.port();
    if (!port_text.empty()) {
        const auto* end = port_text.data() + port_text.size();
        auto [p, ec] = std::from_chars(port_text.data(), end, port);
        if (ec != std::errc{} || p != end || port == 0 || port > 65535)
            throw std::invalid_argument("http_client: the URL port is invalid");
    }
    t.port = std::to_string(port);

    const bool v6 = u.host_type() == boost::urls::host_type::ipv6;
    const std::string authority_host = v6 ? "[" + t.host + "]" : t.host;
    t.host_header = port == default_port ? authority_host : authority_host + ":" + t.port;
    const std::string origin = std::string(u.scheme()) + "://" + authority_host + ":" + t.port;
    t.pool_key = origin;
    t.target = u.encoded_target();
    if (t.target.empty() || t.target.front() != '/')
        t.target.insert(0, "/");
    t.display = origin + std::string(u.encoded_path());
    return t;
}

request_message build_message(request& req, const request_target& t, const std::string& user_agent)
{
    request_message msg(req.method, t.target, 11);
    for (const auto& [name, value] : req.headers) {
        // Beast writes fields verbatim: a CR/LF here would let a value smuggle headers in.
        if (!is_token(name))
            throw std::invalid_argument("http_client: invalid header name"); // may be a secret
        if (!is_field_value(value))
            throw std::invalid_argument("http_client: invalid value for header '" + name + "'");
        msg.insert(name, value);
    }
    if (!is_field_value(req.content_type))
        throw std::invalid_argument("http_client: invalid content type");
    // Framing and routing are ours to decide.
    for (auto f :
         {http::field::host,
          http::field::content_length,
          http::field::transfer_encoding,
          http::field::connection})
        msg.erase(f);
    msg.set(http::field::host, t.host_header);
    if (!user_agent.empty() && msg.find(http::field::user_agent) == msg.end())
        msg.set(http::field::user_agent, user_agent);
    if (!req.content_type.empty())
        msg.set(http::field::content_type, req.content_type);
    // POST/PUT/PATCH always announce their length, even 0 (some servers answer 411 otherwise);
    // other methods only when they carry a body.
    const bool expects_body = req.method == http::verb::post || req.method == http::verb::put ||
                              req.method == http::verb::patch;
    if (!req.body.empty() || expects_body)
        msg.content_length(req.body.size());
    msg.body() = std::move(req.body);
    return msg;
}

} // namespace common::client::detail
