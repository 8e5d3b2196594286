#include "accounts/abuse_limits.hpp"

#include "settings.hpp"

#include "common/crypto/crypto.hpp"
#include "common/ratelimit/limiter.hpp"
#include "common/web/problem.hpp"

#include <algorithm>
#include <exception>

namespace gateway {

namespace {

constexpr std::size_t device_id_bytes = 16;
constexpr std::size_t mac_bytes = 16;

} // namespace

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

login_guard::login_guard(const settings& cfg, common::ratelimit::limiter& limiter)
    : cfg_(cfg)
    , limiter_(limiter)
    , key_(common::crypto::hmac_sha256(cfg.mac_key, "modebridge device tokens v1"))
{
}

std::string login_guard::mac(std::string_view device, std::string_view account_key) const
{
    std::string message;
    message.append(device).append(1, '\n').append(account_key);
    auto d = common::crypto::hmac_sha256(key_, message);
    d.resize(mac_bytes);
    return common::crypto::base64url_encode(d);
}

std::optional<std::string> login_guard::device_of(std::string_view token, std::string_view account_key) const
{
    auto dot = token.find('.');
    if (dot == std::string_view::npos || token.size() > 128)
        return std::nullopt;
    auto device = token.substr(0, dot);
    if (!common::crypto::constant_time_equal(token.substr(dot + 1), mac(device, account_key)))
        return std::nullopt;
    return std::string(device);
}

std::string login_guard::device_token(const attempt& a) const
{
    if (!a.device_token.empty())
        return a.device_token;
    auto device = common::crypto::random_token(device_id_bytes);
    return device + '.' + mac(device, a.account_key);
}

net::awaitable<std::string> login_guard::count(const common::ratelimit::rule& rule, const std::string& key)
{
    co_return co_await enforce_limit(limiter_, rule, key, true);
}

net::awaitable<login_guard::attempt> login_guard::admit(std::string account_key, std::string ip,
                                                         std::optional<std::string> device_token)
{
    attempt a;
    a.account_key = std::move(account_key);
    a.ip = std::move(ip);
    if (device_token) {
        a.device = device_of(*device_token, a.account_key);
        if (a.device)
            a.device_token = std::move(*device_token);
    }
    a.ip_ticket = co_await count(cfg_.login_failures_per_ip, a.ip);
    std::exception_ptr denied;
    try {
        if (a.device)
            a.subject_ticket = co_await count(cfg_.login_failures_per_device, *a.device);
        else
            a.subject_ticket = co_await count(cfg_.login_failures_per_account, a.account_key);
    } catch (...) {
        denied = std::current_exception();
    }
    if (denied) {
        // Refused: the address's count gets this attempt back, as a denial counts nothing.
        co_await limiter_.release(cfg_.login_failures_per_ip, a.ip, a.ip_ticket);
        std::rethrow_exception(denied);
    }
    co_return a;
}

net::awaitable<void> login_guard::succeeded(const attempt& a)
{
    co_await limiter_.release(cfg_.login_failures_per_ip, a.ip, a.ip_ticket);
    if (a.device)
        co_await limiter_.reset(cfg_.login_failures_per_device, *a.device);
    co_await limiter_.reset(cfg_.login_failures_per_account, a.account_key);
}

net::awaitable<void> login_guard::abandoned(const attempt& a)
{
    co_await limiter_.release(cfg_.login_failures_per_ip, a.ip, a.ip_ticket);
    if (a.device)
        co_await limiter_.release(cfg_.login_failures_per_device, *a.device, a.subject_ticket);
    else
        co_await limiter_.release(cfg_.login_failures_per_account, a.account_key, a.subject_ticket);
}

net::awaitable<void> login_guard::lift(const std::string& account_key)
{
    co_await limiter_.reset(cfg_.login_failures_per_account, account_key);
}

} // namespace gateway
