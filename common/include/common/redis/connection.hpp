#pragma once

#include "common/metrics.hpp"
#include "common/net/aliases.hpp"
#include "common/redis/reply.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace common::redis {

/** Where and how to connect. `password` is a secret: never log it. */
struct config
{
    std::string host = "127.0.0.1"; // IP literal or host name (resolved asynchronously)
    unsigned short port = 6379;
    int db = 0;                                      // SELECTed on every (re)connect when not 0
    std::string username;                            // Redis 6 ACL user; empty: `AUTH password`
    std::string password;                            // empty: no AUTH
    std::chrono::milliseconds connect_timeout{2000}; // resolve + TCP connect + AUTH/SELECT/PING
    std::chrono::milliseconds command_timeout{2000};
};

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` (user and password percent-decoded; IPv6
 * hosts in brackets). Throws std::invalid_argument with a message that never contains the password
 * for anything else: other schemes (including rediss://, TLS is not supported), a user without a
 * password, a bad port or db, a query or a fragment.
 */
config parse_url(std::string_view url);

/** The help text of `mb_redis_reconnects_total`, which every service labels by connection role. */
inline constexpr const char* reconnects_help = "Redis connections made again after one had been up, by connection";

/** "host:port" for logs and messages. */
std::string describe(const config& cfg);

namespace detail {
class connection_impl;

template <typename T>
concept integer_arg =
    std::is_integral_v<std::remove_cvref_t<T>> && !std::is_same_v<std::remove_cvref_t<T>, bool> &&
    !std::is_same_v<std::remove_cvref_t<T>, char>;
template <typename T>
concept command_arg = std::is_convertible_v<T, std::string_view> || integer_arg<T>;

template <typename T>
std::string to_arg(T&& v)
{
    if constexpr (integer_arg<T>)
        return std::to_string(v);
    else if constexpr (std::is_same_v<std::remove_cvref_t<T>, std::string>)
        return std::forward<T>(v);
    else
        return std::string(std::string_view(v));
}
} // namespace detail

/**
 * One multiplexed Redis connection (hiredis 0.14 async API on Boost.Asio). Commands from any number
 * of callers are pipelined on the one socket, many in flight at once, and each caller's commands
 * are sent and answered in the order it issued them.
 *
 * Availability: `start()` connects in the background and reconnects by itself with jittered
 * exponential backoff (100 ms up to 5 s), logging once per outage (`redis.down`, then `redis.up`).
 * Every (re)connect sends AUTH (when a password is set), SELECT (db != 0) and PING; the connection
 * counts as connected only once all of them answered within connect_timeout. While not connected,
 * commands fail at once (error_kind::unavailable); nothing is queued.
 *
 * Errors: `command()` throws `error` with kind
 *   - unavailable: not connected, the connection dropped with the command in flight, or stopped;
 *   - timeout: no reply within command_timeout. If nothing at all came back from the server in
 *     that time it is taken as hung: the connection is dropped (other in-flight commands fail as
 *     unavailable) and re-established in the background;
 *   - server: Redis answered with an error reply; `what()` is its message ("WRONGTYPE ...").
 * `pipeline()` returns error replies as `reply`s instead, and throws only the first two kinds.
 * Do not send blocking commands (BLPOP, WAIT, ...): they stall everyone sharing the connection.
 *
 * Executors: all hiredis work runs on a private strand of the executor given to the constructor;
 * awaiting coroutines resume on their own executor, never inside hiredis. No hiredis callback
 * reaches a destroyed object.
 *
 * Thread safety: distinct objects: safe. Shared objects: safe; every member function may be called
 * from any thread, concurrently. Destroy the connection before its io_context. The destructor calls
 * stop() and does not block.
 */
class connection
{
public:
    connection(net::any_io_executor ex, config cfg);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /** Starts connecting in the background (once; later calls do nothing). */
    void start();
    /** Closes the connection for good: in-flight commands fail (unavailable), no reconnect. */
    void stop();

    /**
     * Sends one command (`{"SET", key, value}`; arguments are binary-safe) and returns its reply;
     * resumes the caller on its own executor.
     * Throws `error` as described above, and std::invalid_argument for an empty command or for
     * SUBSCRIBE/PSUBSCRIBE/UNSUBSCRIBE/PUNSUBSCRIBE/MONITOR (use `subscriber`).
     */
    net::awaitable<reply> command(std::vector<std::string> args);

    /**
     * The same with the arguments spelled out: `co_await conn.command("EXPIRE", key, 60)`. Prefer
     * it inside coroutines: GCC 12 rejects a braced list in a co_await expression
     * (`co_await conn.command({"GET", key})` fails with "array used as initializer"), a compiler
     * bug.
     */
    template <typename... Args>
    requires(sizeof...(Args) > 0 && (detail::command_arg<Args> && ...))
        net::awaitable<reply> command(Args&&... args)
    {
        std::vector<std::string> v;
        v.reserve(sizeof...(Args));
        (v.push_back(detail::to_arg(std::forward<Args>(args))), ...);
        return command(std::move(v));
    }

    /**
     * Sends several commands back to back (one write) and returns their replies in order. Error
     * replies come back as replies; throws `error` only when unavailable or on timeout (then all
     * replies are lost, though some commands may have run). Build the vector before the co_await
     * (see above).
     */
    net::awaitable<std::vector<reply>> pipeline(std::vector<std::vector<std::string>> commands);

    /** True while the connection is established and AUTH/SELECT/PING succeeded. */
    bool connected() const noexcept;

    /** Why the last connection attempt or connection failed (empty if it never did). No secrets. */
    std::string last_error() const;

    const config& settings() const noexcept;

    /** Times a connection was made again after one had been up (a metric, and what tests check). */
    std::uint64_t reconnects() const noexcept;
    /** Also counts them on `c` (a metric of the registry, which must outlive this object). */
    void count_reconnects_on(metrics::counter& c) noexcept;

private:
    std::shared_ptr<detail::connection_impl> impl_;
};

} // namespace common::redis
