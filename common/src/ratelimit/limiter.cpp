#include "common/ratelimit/limiter.hpp"

#include "common/crypto/crypto.hpp"
#include "common/log.hpp"
#include "common/redis/connection.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

namespace common::ratelimit {

namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

// The sliding log (see limiter.hpp). KEYS[1]: the sorted set. ARGV: limit, window in µs, "1" to
// count the event, the event's unique member. Returns {allowed 0/1, count, retry_after in µs}.
// The clock is the server's (TIME), so instances with skewed clocks still agree; Redis 7 replicates
// scripts by their effects, which makes TIME before a write legal.
constexpr std::string_view sliding_log_script = R"lua(
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  if ARGV[3] == '1' then
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
    n = n + 1
  end
  return {1, n, 0}
end
local e = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, n, tonumber(e[2]) + window - now}
)lua";

/** The first 16 bytes of the digest of rule name and key: what stands for the key in storage. */
std::string digest16(std::string_view secret, const rule& r, std::string_view key)
{
    std::string message;
    message.reserve(r.name.size() + 1 + key.size());
    // The name cannot contain '\n' (validate), so name and key cannot run into each other.
    message.append(r.name).append(1, '\n').append(key);
    auto d = secret.empty() ? crypto::sha256(message) : crypto::hmac_sha256(secret, message);
    d.resize(16);
    return d;
}

/** Whole seconds until `wait` has passed, at least 1 (a denial always says to wait). */
seconds retry_seconds(microseconds wait)
{
    return std::max(seconds(1), std::chrono::ceil<seconds>(wait));
}

std::uint32_t to_count(long long n)
{
    return static_cast<std::uint32_t>(
        std::clamp<long long>(n, 0, std::numeric_limits<std::uint32_t>::max())
    );
}

// Tickets of events counted by the in-process fallback; Redis tickets start with an instance id.
constexpr std::string_view local_ticket_prefix = "local:";

bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

} // namespace

void validate(const rule& r)
{
    // The name ends up in Redis key names and SCAN patterns: keep it a plain identifier.
    if (r.name.empty() || r.name.size() > 64 ||
        !std::all_of(r.name.begin(), r.name.end(), is_name_char))
        throw std::invalid_argument("rate limit rule name must be 1-64 of [A-Za-z0-9_.-]");
    if (r.limit == 0)
        throw std::invalid_argument("rate limit rule '" + r.name + "': limit must be at least 1");
    if (r.window < seconds(1))
        throw std::invalid_argument(
            "rate limit rule '" + r.name + "': window must be at least 1 s"
        );
}

// --- local_limiter ------------------------------------------------------------------------------

local_limiter::local_limiter(std::size_t max_keys, clock_fn clock)
    : max_keys_(max_keys)
    , clock_(clock ? std::move(clock) : clock_fn([] { return std::chrono::steady_clock::now(); }))
{
    if (max_keys_ == 0)
        throw std::invalid_argument("local_limiter: max_keys must be at least 1");
}

std::string local_limiter::id_of(const rule& r, std::string_view key)
{
    // Hashed like the Redis keys: a key costs the same few bytes however long the caller's key is.
    return r.name + ':' + digest16({}, r, key);
}

decision local_limiter::hit(const rule& r, std::string_view key)
{
    return decide(r, key, true);
}

decision local_limiter::check(const rule& r, std::string_view key)
{
    return decide(r, key, false);
}

decision local_limiter::decide(const rule& r, std::string_view key, bool count)
{
    validate(r);
    const auto id = id_of(r, key);
    std::lock_guard lock(mutex_);
    const auto now = clock_();

    auto found = index_.find(id);
    if (found == index_.end()) {
        if (!count)
            return decision{true, 0, seconds(0), {}};
        if (order_.size() >= max_keys_) {
            // The front is the key whose newest event is the oldest: the cheapest one to forget.
            index_.erase(order_.front().id);
            order_.pop_front();
        }
        order_.push_back(entry{id, {}});
        auto last = std::prev(order_.end());
        found = index_.emplace(last->id, last).first;
    }

    auto it = found->second;
    auto& events = it->events;
    // An event at exactly now - window has left the window (the same boundary as the script).
    const auto horizon = now - r.window;
    while (!events.empty() && events.front().at <= horizon)
        events.pop_front();

    const auto n = events.size();
    if (n < r.limit) {
        if (count) {
            const auto event_id = next_event_++;
            events.push_back(event{now, event_id});
            order_.splice(order_.end(), order_, it); // most recently hit goes last
            return decision{true, static_cast<std::uint32_t>(n + 1), seconds(0),
                            std::string(local_ticket_prefix) + std::to_string(event_id)};
        }
        if (events.empty()) {
            index_.erase(found);
            order_.erase(it);
        }
        return decision{true, static_cast<std::uint32_t>(n), seconds(0), {}};
    }
    // Denied (not counted): one more fits once the event `limit` places from the newest has left.
    const auto& oldest_that_matters = events[n - r.limit];
    const auto wait =
        std::chrono::duration_cast<microseconds>(oldest_that_matters.at + r.window - now);
    return decision{false, to_count(static_cast<long long>(n)), retry_seconds(wait), {}};
}

void local_limiter::reset(const rule& r, std::string_view key)
{
    const auto id = id_of(r, key);
    std::lock_guard lock(mutex_);
    auto found = index_.find(id);
    if (found == index_.end())
        return;
    auto it = found->second;
    index_.erase(found);
    order_.erase(it);
}

void local_limiter::release(const rule& r, std::string_view key, std::string_view ticket)
{
    if (ticket.substr(0, local_ticket_prefix.size()) != local_ticket_prefix)
        return;
    std::uint64_t wanted = 0;
    try {
        wanted = std::stoull(std::string(ticket.substr(local_ticket_prefix.size())));
    } catch (const std::exception&) {
        return;
    }
    const auto id = id_of(r, key);
    std::lock_guard lock(mutex_);
    auto found = index_.find(id);
    if (found == index_.end())
        return;
    auto& events = found->second->events;
    auto e = std::find_if(events.begin(), events.end(), [wanted](const event& x) { return x.id == wanted; });
    if (e != events.end())
        events.erase(e);
}

std::size_t local_limiter::size() const
{
    std::lock_guard lock(mutex_);
    return order_.size();
}

// --- limiter ------------------------------------------------------------------------------------

limiter::limiter(redis::connection& redis, std::string prefix)
    : limiter(redis, limiter_options{std::move(prefix), {}, local_limiter::default_max_keys})
{}

limiter::limiter(redis::connection& redis, limiter_options options)
    : redis_(redis)
    , options_(std::move(options))
    , local_(options_.fallback_max_keys)
    , instance_id_(crypto::random_token(9) + ':')
{}

std::string limiter::storage_key(const rule& r, std::string_view key) const
{
    return options_.prefix + r.name + ':' +
           crypto::base64url_encode(digest16(options_.hash_secret, r, key));
}

// The public functions copy their arguments before returning the coroutine, so the awaitable
// owns everything it needs even when the caller's rule or key was a temporary.
net::awaitable<decision> limiter::hit(const rule& r, std::string_view key)
{
    return decide(r, std::string(key), true);
}

net::awaitable<decision> limiter::check(const rule& r, std::string_view key)
{
    return decide(r, std::string(key), false);
}

net::awaitable<void> limiter::reset(const rule& r, std::string_view key)
{
    return reset_key(r, std::string(key));
}

net::awaitable<void> limiter::release(const rule& r, std::string_view key, std::string_view ticket)
{
    return release_event(r, std::string(key), std::string(ticket));
}

net::awaitable<decision> limiter::decide(rule r, std::string key, bool count)
{
    validate(r);
    if (redis_.connected()) {
        std::optional<redis::error> failure;
        try {
            auto d = co_await run_script(storage_key(r, key), r, count);
            on_redis_success();
            co_return d;
        } catch (const redis::error& e) {
            failure = e;
        }
        on_redis_failure(redis::to_string(failure->kind()), failure->what());
    } else {
        // Not connected: the client would fail at once anyway; skip building the call.
        on_redis_failure("unavailable", {}); // the reason is looked up only if logged
    }
    co_return count ? local_.hit(r, key) : local_.check(r, key);
}

net::awaitable<void> limiter::reset_key(rule r, std::string key)
{
    // The fallback may hold events from an outage: forget them too.
    local_.reset(r, key);
    if (!redis_.connected()) {
        on_redis_failure("unavailable", {}); // the reason is looked up only if logged
        co_return;
    }
    std::optional<redis::error> failure;
    try {
        co_await redis_.command("DEL", storage_key(r, key));
    } catch (const redis::error& e) {
        failure = e;
    }
    if (failure)
        on_redis_failure(redis::to_string(failure->kind()), failure->what());
    else
        on_redis_success();
}

net::awaitable<void> limiter::release_event(rule r, std::string key, std::string ticket)
{
    if (ticket.empty())
        co_return;
    if (ticket.rfind(local_ticket_prefix, 0) == 0) {
        local_.release(r, key, ticket); // counted by the fallback during an outage
        co_return;
    }
    if (!redis_.connected()) {
        on_redis_failure("unavailable", {});
        co_return;
    }
    std::optional<redis::error> failure;
    try {
        co_await redis_.command("ZREM", storage_key(r, key), ticket);
    } catch (const redis::error& e) {
        failure = e;
    }
    if (failure)
        on_redis_failure(redis::to_string(failure->kind()), failure->what());
    else
        on_redis_success();
}

net::awaitable<decision> limiter::run_script(std::string rkey, const rule& r, bool count)
{
    const auto window_us = std::chrono::duration_cast<microseconds>(r.window).count();
    const auto member = instance_id_ + std::to_string(seq_.fetch_add(1));
    const std::string_view counted = count ? "1" : "0";
    const auto sha = co_await script_sha();

    redis::reply rep;
    bool noscript = false;
    try {
        rep = co_await redis_.command("EVALSHA", sha, 1, rkey, r.limit, window_us, counted, member);
    } catch (const redis::error& e) {
        if (e.kind() != redis::error_kind::server ||
            std::string_view(e.what()).rfind("NOSCRIPT", 0) != 0)
            throw;
        noscript = true; // no co_await inside a handler
    }
    if (noscript) {
        // The server lost its script cache (restart, SCRIPT FLUSH): EVAL runs and caches it again.
        rep = co_await redis_.command(
            "EVAL", sliding_log_script, 1, rkey, r.limit, window_us, counted, member
        );
    }

    if (!rep.is_array() || rep.elements.size() != 3)
        throw redis::error(
            redis::error_kind::unexpected_reply,
            "rate limit script returned " + redis::to_string(rep)
        );
    const bool allowed = rep.elements[0].as_integer() == 1;
    const auto n = to_count(rep.elements[1].as_integer());
    const microseconds wait(rep.elements[2].as_integer());
    co_return decision{allowed, n, allowed ? seconds(0) : retry_seconds(wait),
                       allowed && count ? member : std::string()};
}

net::awaitable<std::string> limiter::script_sha()
{
    {
        std::lock_guard lock(sha_mutex_);
        if (!sha_.empty())
            co_return sha_;
    }
    // Learnt from the server once; concurrent first calls may each load it, which is harmless.
    auto rep = co_await redis_.command("SCRIPT", "LOAD", sliding_log_script);
    std::string sha = rep.as_string();
    std::lock_guard lock(sha_mutex_);
    sha_ = sha;
    co_return sha;
}

std::string limiter::not_connected_reason() const
{
    auto why = redis_.last_error();
    return why.empty() ? "not connected" : "not connected: " + why;
}

void limiter::on_redis_failure(std::string_view kind, std::string_view what)
{
    // Logged once per outage; the plain load keeps the common case (already degraded) read-only.
    if (degraded_.load(std::memory_order_relaxed) || degraded_.exchange(true))
        return;
    log::warn(
        "ratelimit.fallback",
        {{"reason", kind},
         {"error", what.empty() ? not_connected_reason() : std::string(what)},
         {"note", "limits are per instance until Redis is back"}}
    );
}

void limiter::on_redis_success()
{
    if (degraded_.load(std::memory_order_relaxed) && degraded_.exchange(false))
        log::info("ratelimit.redis_back");
}

} // namespace common::ratelimit
