#include "settings.hpp"

#include "common/crypto/crypto.hpp"

#include <algorithm>
#include <thread>

namespace gateway {

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
    auto cores = static_cast<std::int64_t>(std::max(1U, std::thread::hardware_concurrency()));
    s.password_hash_threads = static_cast<std::size_t>(e.integer("MB_PASSWORD_HASH_THREADS", cores, 1, 64));
    return s;
}

} // namespace gateway
