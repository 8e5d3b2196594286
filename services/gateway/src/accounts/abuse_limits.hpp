#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace common::ratelimit {
class limiter;
struct rule;
}

namespace gateway {

using namespace common::aliases;

struct settings;

/**
 * Applies an abuse limit: 429 RATE_LIMITED with Retry-After when `rule` denies `key`, counting this
 * attempt first when `count` (a security bound counts before the work it guards). Returns the counted
 * event's ticket (empty unless counted), for limiter::release.
 */
net::awaitable<std::string> enforce_limit(common::ratelimit::limiter& limiter, const common::ratelimit::rule& rule,
                                          const std::string& key, bool count);

/**
 * The limits on login attempts (README, "Login protection"), applied before the password is checked
 * so that concurrent attempts cannot overshoot them:
 * - per client address: failed logins (`MB_RATE_LOGIN_FAILURES_PER_IP`). Every attempt is counted
 *   up front and handed back when its password was right, so the count is failures plus attempts
 *   in flight, never more than the limit;
 * - per account: attempts from clients the account does not know (`MB_RATE_LOGIN_FAILURES_PER_ACCOUNT`),
 *   cleared by a success and by a password reset;
 * - per known device: a client that logged in to the account before holds a device token (returned
 *   by every successful login, bound to the account's address by an HMAC) and is judged by its own
 *   count of the same size instead of the account's. Strangers who use up the account's attempts
 *   therefore lock out only other strangers: the owner's devices still log in.
 * Each step is one atomic call to the shared limiter; a denial counts nothing and answers 429
 * RATE_LIMITED with Retry-After.
 * Runs on the caller's executor; the counts live in Redis. Thread-safety: shared (no state besides the key).
 */
class login_guard
{
public:
    login_guard(const settings& cfg, common::ratelimit::limiter& limiter);

    /** One admitted attempt: what was counted, to be settled by one of the calls below. */
    struct attempt
    {
        std::string ip;
        std::string ip_ticket;
        std::string account_key;       // the normalised address
        std::optional<std::string> device; // the device id when the client presented a valid token
        std::string subject_ticket;     // the per-account or per-device count
        std::string device_token;       // the valid token presented, if any
    };

    /** Counts the attempt for the address, and for the device or the account; 429 when one denies. */
    net::awaitable<attempt> admit(std::string account_key, std::string ip, std::optional<std::string> device_token);
    /** The password was right: the address gets its attempt back; the account and device start afresh. */
    net::awaitable<void> succeeded(const attempt& a);
    /** Nothing was judged (the service was busy or a store failed): every count is handed back. */
    net::awaitable<void> abandoned(const attempt& a);
    /** Lifts the account's lock (a password reset proves the owner). */
    net::awaitable<void> lift(const std::string& account_key);

    /** The device token for the client of `a` after a success: the one it presented, or a new one. */
    std::string device_token(const attempt& a) const;

private:
    /** The device id if `token` was issued for `account_key` by this deployment. */
    std::optional<std::string> device_of(std::string_view token, std::string_view account_key) const;
    std::string mac(std::string_view device, std::string_view account_key) const;
    net::awaitable<std::string> count(const common::ratelimit::rule& rule, const std::string& key);

    const settings& cfg_;
    common::ratelimit::limiter& limiter_;
    std::string key_; // HMAC key of device tokens, from the HMAC key derived from MB_SECRET_KEY
};

} // namespace gateway
