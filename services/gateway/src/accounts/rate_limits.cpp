#include "accounts/rate_limits.hpp"

#include "common/ratelimit/limiter.hpp"
#include "common/web/problem.hpp"

#include <algorithm>

namespace gateway {

net::awaitable<std::string> enforce_limit(common::ratelimit::limiter& limiter, const common::ratelimit::rule& rule,
                                   const std::string& key, bool count)
{
    common::ratelimit::decision d;
    if (count)
        d = co_await limiter.hit(rule, key);
    else
        d = co_await limiter.check(rule, key);
    if (!d.allowed)
        throw common::web::problem(http::status::too_many_requests, "RATE_LIMITED", "too many attempts; try again later")
            .with_header("Retry-After", std::to_string(std::max<long long>(1, d.retry_after.count())));
    co_return std::move(d.ticket);
}

} // namespace gateway
