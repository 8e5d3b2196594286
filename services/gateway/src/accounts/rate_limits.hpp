#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace common::ratelimit {
class limiter;
struct rule;
}

namespace gateway {

using namespace common::aliases;

/**
 * Applies an abuse limit: 429 RATE_LIMITED with Retry-After when `rule` denies `key`, counting this
 * attempt first when `count` (a security bound counts before the work it guards). Returns the counted
 * event's ticket (empty unless counted), for limiter::release.
 */
net::awaitable<std::string> enforce_limit(common::ratelimit::limiter& limiter, const common::ratelimit::rule& rule,
                                   const std::string& key, bool count);

} // namespace gateway
