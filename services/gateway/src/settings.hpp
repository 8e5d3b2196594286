#pragma once

#include "common/config.hpp"
#include "common/ratelimit/limiter.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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

    std::string secret_key; // 32 raw bytes (MB_SECRET_KEY is base64); only for common::crypto::sealed_text
    std::vector<std::string> previous_secret_keys; // MB_SECRET_KEY_PREVIOUS, 32 raw bytes each: still read
    std::string mac_key;    // HKDF of secret_key for HMAC keys and keyed hashes (common::crypto::derive_keys)
    std::string public_url;
    std::string smtp_url; // empty: mails are logged
    std::string mail_from;

    std::chrono::milliseconds session_idle_timeout{std::chrono::hours(24 * 14)};
    std::chrono::milliseconds session_lifetime{std::chrono::hours(24 * 90)};
    std::chrono::milliseconds session_cache_ttl{30'000};
    std::size_t session_cache_size = 100'000;
    std::size_t password_hash_threads = 1;
    /** Password checks that may wait for a hashing thread; past it, 503 BUSY. */
    std::size_t password_hash_queue = 64;
    /** How long a refused login (429, 503) waits before it is answered. */
    std::chrono::milliseconds login_refusal_delay{1000};

    std::chrono::milliseconds verify_token_ttl{std::chrono::hours(24)};
    std::chrono::milliseconds reset_token_ttl{std::chrono::hours(1)};
    std::chrono::milliseconds invite_token_ttl{std::chrono::hours(24 * 7)};

    std::chrono::milliseconds mail_retry_min{2'000};
    std::chrono::milliseconds mail_retry_max{600'000};

    // Abuse protection, shared by all instances through Redis.
    common::ratelimit::rule login_failures_per_account{"login_fail_account", 10, std::chrono::minutes(15)};
    common::ratelimit::rule login_failures_per_ip{"login_fail_ip", 100, std::chrono::minutes(15)};
    /** Per known device (a valid device token): the per-account numbers, counted per device. */
    common::ratelimit::rule login_failures_per_device{"login_fail_device", 10, std::chrono::minutes(15)};
    common::ratelimit::rule registrations_per_ip{"register_ip", 20, std::chrono::hours(1)};
    common::ratelimit::rule verification_mails_per_address{"verify_mail", 1, std::chrono::minutes(1)};
    common::ratelimit::rule reset_mails_per_address{"reset_mail", 1, std::chrono::minutes(1)};
    /** Add-member requests (invitations, mails to the invitee) per inviting user. */
    common::ratelimit::rule invitations_per_user{"invite_user", 50, std::chrono::hours(1)};
    /** Confirm-first member flow: the invitee accepts before the membership is made. */
    bool member_confirm_first = false;
    /** Messages a live stream may have waiting before it is closed as too slow (4008). */
    std::size_t live_backlog = 1000;
    /** How often an open live stream re-reads its user's homes from MODE. */
    std::chrono::milliseconds live_recheck{60'000};
    /** How old the last list of a user's homes read from MODE may be and still serve while MODE cannot
        be reached. */
    std::chrono::milliseconds membership_max_age{300'000};
    /** Live streams this instance holds at most; new connections per second; streams per user. */
    std::size_t max_connections = 50000;
    std::size_t connection_rate = 500;
    std::size_t live_streams_per_user = 20;
    /** Take the client address from X-Forwarded-For (last hop): only behind a proxy that sets it. */
    bool trust_forwarded_for = false;
};

/** Reads and validates; throws common::config::error naming the first bad variable. */
settings load_settings(const common::config::env& e);

} // namespace gateway
