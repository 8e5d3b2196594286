#include "settings.hpp"

#include "common/crypto/crypto.hpp"
#include "common/crypto/keys.hpp"

#include <algorithm>
#include <thread>

namespace gateway {

namespace {

// "N/duration", e.g. "10/15m": at most N events per sliding window.
common::ratelimit::rule rate(const common::config::env& e, const std::string& name, common::ratelimit::rule def)
{
    auto v = e.optional(name);
    if (!v)
        return def;
    auto slash = v->find('/');
    std::int64_t n = -1;
    std::chrono::milliseconds window{0};
    if (slash != std::string::npos) {
        common::config::env one([&](const std::string& k) -> std::optional<std::string> {
            if (k == "N")
                return v->substr(0, slash);
            if (k == "W")
                return v->substr(slash + 1);
            return std::nullopt;
        });
        try {
            n = one.integer("N", -1, 1, 1'000'000);
            window = one.duration("W", std::chrono::milliseconds(0));
        } catch (const common::config::error&) {
            n = -1;
        }
    }
    if (n < 1 || window < std::chrono::seconds(1))
        common::config::env::fail(name, "must be a rate such as 10/15m (at most 10 per 15 minutes)");
    def.limit = static_cast<std::uint32_t>(n);
    def.window = std::chrono::duration_cast<std::chrono::seconds>(window);
    return def;
}

} // namespace

settings load_settings(const common::config::env& e)
{
    using common::config::env;
    settings s;
    s.service = common::config::load_service_settings(e, "0.0.0.0:8080");
    s.mode_api_url = e.url("MB_MODE_API_URL", {"http", "https"}, std::string("https://api.tinkermode.com"),
                           "the MODE API base URL, e.g. https://api.tinkermode.com");
    while (!s.mode_api_url.empty() && s.mode_api_url.back() == '/')
        s.mode_api_url.pop_back();
    s.mode_project_id = e.integer("MB_MODE_PROJECT_ID", 0, 1, INT64_MAX);
    if (s.mode_project_id == 0)
        env::fail("MB_MODE_PROJECT_ID", "is required but not set (the MODE BYOU project id, an integer)");
    s.mode_project_key =
        e.required_secret("MB_MODE_PROJECT_KEY", "the MODE project API key with the Can Handle BYOU permission");
    s.mode_timeout = e.duration("MB_MODE_TIMEOUT", s.mode_timeout);
    s.mode_link_timeout = e.duration("MB_MODE_LINK_TIMEOUT", s.mode_link_timeout);
    s.mode_link_retry_min = e.duration("MB_MODE_LINK_RETRY_MIN", s.mode_link_retry_min);
    s.mode_link_retry_max = e.duration("MB_MODE_LINK_RETRY_MAX", s.mode_link_retry_max);
    if (s.mode_link_retry_min.count() <= 0 || s.mode_link_retry_max < s.mode_link_retry_min)
        env::fail("MB_MODE_LINK_RETRY_MAX", "must be at least MB_MODE_LINK_RETRY_MIN, which must be positive");

    auto key = common::crypto::base64_decode(
        e.required_secret("MB_SECRET_KEY", "32 random bytes, base64; e.g. openssl rand -base64 32"));
    if (!key || key->size() != 32)
        env::fail("MB_SECRET_KEY", "must be exactly 32 bytes, base64-encoded (openssl rand -base64 32)");
    s.secret_key = std::move(*key);
    s.mac_key = common::crypto::derive_keys(s.secret_key).mac;
    if (auto previous = e.optional_secret("MB_SECRET_KEY_PREVIOUS")) {
        std::string_view rest = *previous;
        while (!rest.empty()) {
            auto comma = rest.find(',');
            auto item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            while (!item.empty() && item.front() == ' ')
                item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ')
                item.remove_suffix(1);
            auto old_key = common::crypto::base64_decode(item);
            if (!old_key || old_key->size() != 32)
                env::fail("MB_SECRET_KEY_PREVIOUS",
                          "must be earlier MB_SECRET_KEY values, comma-separated, each 32 bytes in base64");
            s.previous_secret_keys.push_back(std::move(*old_key));
        }
    }

    s.public_url = e.url("MB_PUBLIC_URL", {"http", "https"}, std::nullopt,
                         "the public base URL of the gateway for links in emails, e.g. https://app.example.com");
    while (!s.public_url.empty() && s.public_url.back() == '/')
        s.public_url.pop_back();
    if (auto smtp = e.optional_secret("MB_SMTP_URL"))
        s.smtp_url = env::check_url("MB_SMTP_URL", std::move(*smtp), {"smtp", "smtps"},
                                    "smtp://[user:password@]host:port or smtps://...");
    s.mail_from = e.get("MB_MAIL_FROM", "modebridge <no-reply@localhost>");

    s.session_idle_timeout = e.duration("MB_SESSION_IDLE_TIMEOUT", s.session_idle_timeout);
    s.session_lifetime = e.duration("MB_SESSION_LIFETIME", s.session_lifetime);
    s.session_cache_ttl = e.duration("MB_SESSION_CACHE_TTL", s.session_cache_ttl);
    s.session_cache_size = static_cast<std::size_t>(e.integer("MB_SESSION_CACHE_SIZE", 100'000, 16, 10'000'000));
    // Half the cores at most: a login storm must leave CPU for everything else.
    auto cores = static_cast<std::int64_t>(std::max(1U, std::thread::hardware_concurrency()));
    s.password_hash_threads =
        static_cast<std::size_t>(e.integer("MB_PASSWORD_HASH_THREADS", std::max<std::int64_t>(1, cores / 2), 1, 64));
    s.password_hash_queue = static_cast<std::size_t>(e.integer("MB_PASSWORD_HASH_QUEUE", 64, 1, 100'000));
    s.login_refusal_delay = e.duration("MB_LOGIN_REFUSAL_DELAY", s.login_refusal_delay);

    s.verify_token_ttl = e.duration("MB_VERIFY_TOKEN_TTL", s.verify_token_ttl);
    s.reset_token_ttl = e.duration("MB_RESET_TOKEN_TTL", s.reset_token_ttl);
    s.invite_token_ttl = e.duration("MB_INVITE_TOKEN_TTL", s.invite_token_ttl);
    s.mail_retry_min = e.duration("MB_MAIL_RETRY_MIN", s.mail_retry_min);
    s.mail_retry_max = e.duration("MB_MAIL_RETRY_MAX", s.mail_retry_max);

    s.login_failures_per_account = rate(e, "MB_RATE_LOGIN_FAILURES_PER_ACCOUNT", s.login_failures_per_account);
    s.login_failures_per_device.limit = s.login_failures_per_account.limit;
    s.login_failures_per_device.window = s.login_failures_per_account.window;
    s.login_failures_per_ip = rate(e, "MB_RATE_LOGIN_FAILURES_PER_IP", s.login_failures_per_ip);
    s.registrations_per_ip = rate(e, "MB_RATE_REGISTRATIONS_PER_IP", s.registrations_per_ip);
    s.verification_mails_per_address = rate(e, "MB_RATE_VERIFICATION_MAILS", s.verification_mails_per_address);
    s.reset_mails_per_address = rate(e, "MB_RATE_RESET_MAILS", s.reset_mails_per_address);
    s.invitations_per_user = rate(e, "MB_RATE_INVITATIONS_PER_USER", s.invitations_per_user);
    s.trust_forwarded_for = e.boolean("MB_TRUST_FORWARDED_FOR", false);
    auto flow = e.get("MB_MEMBER_FLOW", "direct");
    if (flow != "direct" && flow != "confirm-first")
        env::fail("MB_MEMBER_FLOW", "must be direct or confirm-first");
    s.member_confirm_first = flow == "confirm-first";
    s.live_backlog = static_cast<std::size_t>(e.integer("MB_LIVE_BACKLOG", 1000, 10, 1'000'000));
    s.live_recheck = e.duration("MB_LIVE_RECHECK", s.live_recheck);
    if (s.live_recheck < std::chrono::milliseconds(100))
        env::fail("MB_LIVE_RECHECK", "must be at least 100ms");
    s.membership_max_age = e.duration("MB_MEMBERSHIP_MAX_AGE", s.membership_max_age);
    s.max_connections = static_cast<std::size_t>(e.integer("MB_MAX_CONNECTIONS", 50000, 1, 10'000'000));
    s.connection_rate = static_cast<std::size_t>(e.integer("MB_CONNECTION_RATE", 500, 1, 10'000'000));
    s.live_streams_per_user = static_cast<std::size_t>(e.integer("MB_LIVE_STREAMS_PER_USER", 20, 1, 10'000'000));
    return s;
}

} // namespace gateway
