#pragma once

#include "common/config.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace gateway {

/** Everything the gateway reads from its environment, validated once at start (api.md's table). */
struct settings
{
    common::config::service_settings service;

    std::string mode_api_url;
    std::int64_t mode_project_id = 0;
    std::string mode_project_key;
    std::chrono::milliseconds mode_timeout{10'000};       // one MODE call on a user's behalf
    std::chrono::milliseconds mode_link_timeout{3'000};   // the inline link at registration
    std::chrono::milliseconds mode_link_retry_min{1'000}; // background linker backoff
    std::chrono::milliseconds mode_link_retry_max{300'000};

    std::string secret_key; // 32 raw bytes (MB_SECRET_KEY is base64)
    std::string public_url;
    std::string smtp_url; // empty: mails are logged
    std::string mail_from;

    std::chrono::milliseconds session_idle_timeout{std::chrono::hours(24 * 14)};
    std::chrono::milliseconds session_lifetime{std::chrono::hours(24 * 90)};
    std::size_t password_hash_threads = 2;
};

/** Reads and validates; throws common::config::error naming the first bad variable. */
settings load_settings(const common::config::env& e);

} // namespace gateway
