#pragma once

#include "sessions/session_store.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace gateway {

/**
 * The sessions this instance saw recently, by token hash, so that authenticating a request usually
 * costs no query. Entries are dropped when a session is revoked or its user changes (through
 * `session_bus`, on every instance), after `max_age` in any case, and all at once whenever the
 * invalidation stream may have missed something (`clear`). While the stream is down the cache is
 * bypassed entirely (`set_trusted(false)`), so a revocation never goes unnoticed for long.
 *
 * Pure and synchronous; thread-safety: every member may be called from any thread (sharded locks).
 */
class session_cache
{
public:
    using clock = std::chrono::steady_clock;

    session_cache(std::size_t max_entries, std::chrono::milliseconds max_age)
        : max_per_shard_(std::max<std::size_t>(1, max_entries / shard_count))
        , max_age_(max_age)
    {
    }

    std::optional<session_row> get(const std::string& token_hash, clock::time_point now = clock::now());
    /**
     * Caches a row read from PostgreSQL, unless an eviction (or `clear`) happened since `generation()`
     * was taken before that read: the row may predate a revocation whose message already passed, and
     * caching it would serve the revoked session for `max_age`.
     */
    void put(const std::string& token_hash, const session_row& s, std::uint64_t read_generation,
             clock::time_point now = clock::now());
    /** Changes with every eviction and `clear`; take it before reading a session to `put` it. */
    std::uint64_t generation() const { return generation_.load(); }
    /**
     * Tokens PostgreSQL did not know, remembered for `negative_ttl` so that a flood of made-up tokens
     * costs one query each, not one per request. Safe on every instance without any invalidation:
     * tokens are random, so a token issued later cannot be one remembered here, and a session that
     * once was not found (unknown, expired, revoked) never becomes valid again.
     */
    bool known_unknown(const std::string& token_hash, clock::time_point now = clock::now());
    void put_unknown(const std::string& token_hash, clock::time_point now = clock::now());
    static constexpr std::chrono::seconds negative_ttl{5};

    /** Updates the last-seen time of a cached session, if present. */
    void seen(const std::string& token_hash, std::int64_t last_seen_ms);

    void evict_session(const std::string& session_id);
    void evict_user(const std::string& user_id);
    void clear();
    void set_trusted(bool trusted) { trusted_.store(trusted); }
    bool trusted() const { return trusted_.load(); }
    std::size_t size() const;

private:
    static constexpr std::size_t shard_count = 16;
    struct entry
    {
        session_row row;
        clock::time_point cached_at;
    };
    struct shard
    {
        mutable std::mutex mutex;
        std::unordered_map<std::string, entry> map;
        std::unordered_map<std::string, clock::time_point> unknown; // token hash -> remembered until
    };
    shard& shard_for(const std::string& key);

    std::array<shard, shard_count> shards_;
    std::size_t max_per_shard_;
    std::chrono::milliseconds max_age_;
    std::atomic<bool> trusted_{false};
    std::atomic<std::uint64_t> generation_{0};
};

} // namespace gateway
