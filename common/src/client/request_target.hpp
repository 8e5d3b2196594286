#pragma once

#include "client/connection.hpp"
#include "common/client/http_client.hpp"

#include <string>

namespace common::client::detail {

/** Where a request goes, derived once from its URL. */
struct request_target
{
    bool tls = false;
    std::string host;        ///< for DNS and certificate checks: a name or an IP, no brackets
    std::string port;        ///< decimal
    std::string host_header; ///< Host: value (brackets for IPv6, port when not the default)
    std::string pool_key;    ///< scheme://host:port
    std::string target;      ///< request-target: path and query as given, "/" when empty
    std::string display;     ///< scheme://host:port/path for messages and logs: no query (secrets)
};

/// Throws std::invalid_argument unless `url` is an absolute http:// or https:// URL with a host.
request_target parse_target(std::string_view url);

/// The wire message: Host, User-Agent, Content-Type, Content-Length set; throws
/// std::invalid_argument for a header name or value that would break the framing.
request_message build_message(request& req, const request_target& t, const std::string& user_agent);

} // namespace common::client::detail
