#pragma once

// Abuse limits for the gateway (failed logins per account and per IP, resend-verification and
// forgot-password cooldowns per address, registrations per IP), shared by every gateway instance
// through Redis, with an in-process fallback while Redis is unreachable.
//
// Algorithm: an exact sliding log. Each counted event is one member of a Redis sorted set scored
// with the Redis server's clock (TIME, microseconds), so every instance judges by one clock. One
// Lua script per call drops the events older than the window, counts the rest and, for `hit`, adds
// the new event, atomically. A decision is therefore exact: at no moment does any window-long
// interval hold more than `limit` counted events (error bound 0, time resolution 1 µs). Memory is
// at most `limit` members per key, and a key expires by itself (PEXPIRE) one window after its
// newest event. A sliding-window counter (two weighted fixed windows) would be O(1) per key, but
// it can let up to about twice the limit through in one window when events bunch at a window
// edge: too loose for security limits whose values are small (3 per hour, 10 per 15 min).
//
// Denied hits are NOT counted. A client that keeps hammering gets exactly `limit` events in any
// window and the rest denied; it stays locked out for as long as it keeps using its allowance,
// but its hammering does not push the end of the lock-out further away. Counting denied attempts
// would let anyone lock an account out for as long as they care to run a loop (a cheap denial of
// service against the account's owner), while adding nothing to the guarantee that matters: the
// attacker's guess rate is bounded by limit/window. A legitimate user is allowed again at most
// `window` after the oldest counted event, and `retry_after` says exactly when.

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace common::redis {
class connection;
}

namespace common::ratelimit {

/**
 * One limit: at most `limit` counted events per key in any sliding `window`. `name` tells limits
 * apart in storage (give each rule its own name) and appears in Redis key names, so it must be a
 * plain identifier, never user data. E.g. {"login_fail_account", 10, std::chrono::minutes(15)}.
 */
struct rule
{
    std::string name;
    std::uint32_t limit = 0;
    std::chrono::seconds window{0};
};

/**
 * The answer for one call.
 * - `allowed`: for `hit`, the event was counted; for `check`, a `hit` now would be allowed.
 * - `count`: the counted events in the current window, including this one for an allowed `hit`
 *   (so 1..limit); when denied, the number already there (>= limit).
 * - `retry_after`: 0 when allowed; otherwise at least 1 s, the time (rounded up to whole seconds)
 *   until the window lets one more event through. Meant for the `Retry-After` header.
 * - `ticket`: for an allowed `hit`, the counted event's name. Guarded work is counted before it
 *   starts (so concurrent requests cannot overshoot the limit) and, when it turns out not to be
 *   what the limit counts (a login whose password was right), `release(rule, key, ticket)` takes
 *   that one event back.
 */
struct decision
{
    bool allowed = true;
    std::uint32_t count = 0;
    std::chrono::seconds retry_after{0};
    /** For an allowed `hit`: names the counted event, so that `release` can take it back. */
    std::string ticket;
};

/**
 * The in-process sliding log, with the same semantics as the Redis one (denied hits not counted),
 * used by `limiter` while Redis is unreachable, and usable alone. State is per process, so N
 * instances falling back at once admit up to N × limit between them.
 *
 * Memory is bounded: at most `max_keys` keys (rule + key pairs), each holding at most `limit`
 * time points. When a new key would exceed the cap, the key whose newest event is the oldest is
 * evicted (its events are the likeliest to have left their window already). Keys whose events have
 * all expired are dropped when next touched.
 *
 * Time comes from `clock` (steady_clock::now by default; tests inject their own).
 *
 * Not bound to any executor: calls are short and never block beyond a mutex.
 * Thread-safety: distinct objects: safe. Shared objects: safe; every member function may be
 * called from any thread, concurrently (one internal mutex).
 */
class local_limiter
{
public:
    using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

    static constexpr std::size_t default_max_keys = 10000;

    /** Throws std::invalid_argument when `max_keys` is 0. */
    explicit local_limiter(std::size_t max_keys = default_max_keys, clock_fn clock = {});

    /** Counts one event for `key` under `r` if the window has room, then decides. */
    decision hit(const rule& r, std::string_view key);
    /** Decides whether a `hit` would be allowed now, counting nothing. */
    decision check(const rule& r, std::string_view key);
    /** Forgets every event of `key` under `r`. */
    void reset(const rule& r, std::string_view key);
    /** Takes back the one event `ticket` (from an allowed `hit`) names, if it is still counted. */
    void release(const rule& r, std::string_view key, std::string_view ticket);

    /** How many keys are held now (expired ones included until touched or evicted). */
    std::size_t size() const;
    std::size_t max_keys() const noexcept { return max_keys_; }

private:
    using time_point = std::chrono::steady_clock::time_point;
    struct event
    {
        time_point at;
        std::uint64_t id; // what a ticket names
    };
    struct entry
    {
        std::string id;
        std::deque<event> events; // oldest first
    };
    using lru_list = std::list<entry>; // least recently hit first

    static std::string id_of(const rule& r, std::string_view key);
    decision decide(const rule& r, std::string_view key, bool count);

    std::size_t max_keys_;
    clock_fn clock_;
    mutable std::mutex mutex_;
    lru_list order_;
    std::unordered_map<std::string_view, lru_list::iterator> index_; // views into order_'s ids
    std::uint64_t next_event_ = 0;                                    // guarded by mutex_
};

/** How a `limiter` names and hashes its keys. */
struct limiter_options
{
    /** Prefix of every Redis key: `<prefix><rule name>:<digest>`. */
    std::string prefix = "mb:rl:";
    /**
     * Optional secret (raw bytes, e.g. 32 random bytes shared by all instances). Empty: a key is
     * stored as SHA-256(rule name, key), which keeps addresses out of Redis but can be reversed by
     * hashing a list of candidate addresses. Set: HMAC-SHA256 under this secret, which cannot.
     * Every instance must use the same value, or they stop sharing counts.
     */
    std::string hash_secret;
    /** Key cap of the in-process fallback. */
    std::size_t fallback_max_keys = local_limiter::default_max_keys;
};

/**
 * The shared rate limiter. `hit` counts one event and decides, atomically; `check` decides
 * without counting; `reset` forgets a key. A `key` is any bytes (an email address, an IP); callers
 * normalise it (e.g. lowercase emails) so one subject maps to one key. Redis holds only a 128-bit
 * digest of it (base64url of the first 16 bytes of SHA-256 or HMAC-SHA256 of rule name and key).
 *
 * Use `hit` *before* the guarded work when the limit is a security bound: `check` now and `hit`
 * later is not atomic, so N concurrent requests can all pass the `check` and overshoot the limit
 * by up to N. For login: `hit` the per-account and per-IP rules first (429 with retry_after when
 * either denies), verify the password, and on success `reset` the per-account key only (an
 * attacker must not clear a per-IP count by logging in to an account of their own).
 *
 * Pass rules by name (e.g. `static const rule`), not as a braced temporary inside the co_await
 * expression: GCC 12 destroys an aggregate temporary there twice (a compiler bug; the process
 * crashes). Temporaries are fine otherwise: the returned awaitable owns copies of its arguments.
 *
 * Redis failures never reach the caller: while the connection is down, or when a call fails with
 * any `redis::error` (unavailable, timeout, or a server/reply error such as OOM or READONLY), the
 * call is answered by an in-process `local_limiter` with the same semantics, logging
 * `ratelimit.fallback` (warn) once per outage and `ratelimit.redis_back` (info) when a Redis call
 * succeeds again. Counts kept locally during an outage are not copied to Redis, and the Redis
 * counts resume where they were. Only std::invalid_argument (an invalid rule) is thrown.
 *
 * The script is run with EVALSHA (its SHA-1 is learnt once with SCRIPT LOAD), falling back to EVAL
 * when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 *
 * Executors: the coroutines run on the caller's executor and resume there (see
 * redis::connection). The connection must outlive the limiter and be started by its owner; an
 * unstarted or stopped connection means the fallback answers.
 * Thread-safety: distinct objects: safe. Shared objects: safe; every member function may be
 * called from any thread or strand, concurrently.
 */
class limiter
{
public:
    explicit limiter(redis::connection& redis, std::string prefix = "mb:rl:");
    limiter(redis::connection& redis, limiter_options options);
    limiter(const limiter&) = delete;
    limiter& operator=(const limiter&) = delete;

    /** Counts one event for `key` under `r` if the window has room, then decides. */
    net::awaitable<decision> hit(const rule& r, std::string_view key);
    /** Decides whether a `hit` would be allowed now, counting nothing. */
    net::awaitable<decision> check(const rule& r, std::string_view key);
    /** Forgets every event of `key` under `r` (in Redis and in the fallback). */
    net::awaitable<void> reset(const rule& r, std::string_view key);
    /**
     * Takes back the one event an allowed `hit` counted (`ticket` from its decision), wherever it
     * was counted (Redis or the fallback). An empty ticket, or one already gone, is a no-op.
     */
    net::awaitable<void> release(const rule& r, std::string_view key, std::string_view ticket);

    /** The Redis key that holds `key`'s events under `r` (for tests and operators). */
    std::string storage_key(const rule& r, std::string_view key) const;

    /** True while the last call was answered by the fallback (Redis unreachable). */
    bool using_fallback() const noexcept { return degraded_.load(); }

private:
    net::awaitable<decision> decide(rule r, std::string key, bool count);
    net::awaitable<void> reset_key(rule r, std::string key);
    net::awaitable<void> release_event(rule r, std::string key, std::string ticket);
    net::awaitable<decision> run_script(std::string rkey, const rule& r, bool count);
    net::awaitable<std::string> script_sha();
    std::string not_connected_reason() const;
    void on_redis_failure(std::string_view kind, std::string_view what);
    void on_redis_success();

    redis::connection& redis_;
    limiter_options options_;
    local_limiter local_;
    std::string instance_id_;           // makes sorted-set members unique across instances
    std::atomic<std::uint64_t> seq_{0}; // ... and across this instance's calls
    std::atomic<bool> degraded_{false};
    std::mutex sha_mutex_;
    std::string sha_; // the script's SHA-1 once known (guarded by sha_mutex_)
};

/** Throws std::invalid_argument unless `r` has a name, a limit >= 1 and a window >= 1 s. */
void validate(const rule& r);

} // namespace common::ratelimit
