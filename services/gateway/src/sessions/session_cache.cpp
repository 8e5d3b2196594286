#include "sessions/session_cache.hpp"

#include <functional>

namespace gateway {

session_cache::shard& session_cache::shard_for(const std::string& key)
{
    return shards_[std::hash<std::string>{}(key) % shard_count];
}

std::optional<session_row> session_cache::get(const std::string& token_hash, clock::time_point now)
{
    if (!trusted())
        return std::nullopt;
    auto& s = shard_for(token_hash);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(token_hash);
    if (it == s.map.end())
        return std::nullopt;
    if (now - it->second.cached_at > max_age_) {
        s.map.erase(it);
        return std::nullopt;
    }
    return it->second.row;
}

void session_cache::put(const std::string& token_hash, const session_row& row, std::uint64_t read_generation,
                        clock::time_point now)
{
    if (!trusted())
        return;
    auto& s = shard_for(token_hash);
    std::lock_guard lock(s.mutex);
    // Evictions bump the generation before they take the shard locks, so either this sees the bump,
    // or the eviction erases the entry after this lock is released.
    if (generation_.load() != read_generation)
        return;
    if (s.map.size() >= max_per_shard_ && s.map.find(token_hash) == s.map.end()) {
        // Full: drop the oldest entry of the shard.
        auto oldest = s.map.begin();
        for (auto it = s.map.begin(); it != s.map.end(); ++it)
            if (it->second.cached_at < oldest->second.cached_at)
                oldest = it;
        s.map.erase(oldest);
    }
    s.map[token_hash] = entry{row, now};
}

bool session_cache::known_unknown(const std::string& token_hash, clock::time_point now)
{
    auto& s = shard_for(token_hash);
    std::lock_guard lock(s.mutex);
    auto it = s.unknown.find(token_hash);
    if (it == s.unknown.end())
        return false;
    if (now >= it->second) {
        s.unknown.erase(it);
        return false;
    }
    return true;
}

void session_cache::put_unknown(const std::string& token_hash, clock::time_point now)
{
    auto& s = shard_for(token_hash);
    std::lock_guard lock(s.mutex);
    // Full: forget an arbitrary entry, in constant time (a flood of made-up tokens keeps it full, and
    // a scan per insert would make each of them cost the shard's size). Expired entries also go when
    // looked up; the bound matters more than the memory of one made-up token.
    if (s.unknown.size() >= max_per_shard_)
        s.unknown.erase(s.unknown.begin());
    s.unknown[token_hash] = now + negative_ttl;
}

void session_cache::seen(const std::string& token_hash, std::int64_t last_seen_ms)
{
    auto& s = shard_for(token_hash);
    std::lock_guard lock(s.mutex);
    if (auto it = s.map.find(token_hash); it != s.map.end())
        it->second.row.last_seen_ms = last_seen_ms;
}

void session_cache::evict_session(const std::string& session_id)
{
    generation_.fetch_add(1);
    for (auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        std::erase_if(s.map, [&](const auto& kv) { return kv.second.row.id == session_id; });
    }
}

void session_cache::evict_user(const std::string& user_id)
{
    generation_.fetch_add(1);
    for (auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        std::erase_if(s.map, [&](const auto& kv) { return kv.second.row.user.id == user_id; });
    }
}

void session_cache::clear()
{
    generation_.fetch_add(1);
    for (auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        s.map.clear();
        s.unknown.clear();
    }
}

std::size_t session_cache::size() const
{
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        n += s.map.size();
    }
    return n;
}

} // namespace gateway
