#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace common::redis {

/** The RESP2 reply types hiredis 0.14 produces. */
enum class reply_kind
{
    nil,
    status,
    error,
    integer,
    string,
    array
};

/**
 * A Redis reply, copied out of hiredis's `redisReply` so it outlives the callback that produced it.
 * A plain value type: copyable, movable, no shared state.
 *
 * `str` holds the text of status, error and string replies (binary-safe); `integer` holds integer
 * replies; `elements` holds array items (arrays nest, e.g. EXEC or EVAL results).
 */
struct reply
{
    reply_kind kind = reply_kind::nil;
    std::string str;
    long long integer = 0;
    std::vector<reply> elements;

    bool is_nil() const noexcept { return kind == reply_kind::nil; }
    bool is_status() const noexcept { return kind == reply_kind::status; }
    bool is_error() const noexcept { return kind == reply_kind::error; }
    bool is_integer() const noexcept { return kind == reply_kind::integer; }
    bool is_string() const noexcept { return kind == reply_kind::string; }
    bool is_array() const noexcept { return kind == reply_kind::array; }

    /** The integer value; throws `error` (unexpected_reply) for any other kind. */
    long long as_integer() const;
    /** The text of a string or status reply; throws `error` (unexpected_reply) otherwise. */
    const std::string& as_string() const;

    friend bool operator==(const reply&, const reply&) = default;
};

/** Copies a hiredis reply tree (nullptr gives a nil reply). */
reply from_hiredis(const redisReply* r);

/** A short human-readable rendering for logs and test messages, e.g. `[1, "a", nil]`. */
std::string to_string(const reply& r);

/** Why a Redis operation failed. */
enum class error_kind
{
    unavailable,      // not connected, connection lost with the command in flight, or stopped
    timeout,          // no reply within config::command_timeout
    server,           // Redis answered with an error reply (WRONGTYPE, NOSCRIPT, ERR ...)
    unexpected_reply, // the reply has another kind than the caller asked for
};

/**
 * Thrown by the Redis client. `kind()` tells a transport failure (unavailable, timeout) from a
 * Redis error reply (server); `what()` never contains a password.
 */
class error : public std::runtime_error
{
public:
    error(error_kind k, const std::string& what)
        : std::runtime_error(what)
        , kind_(k)
    {}
    error_kind kind() const noexcept { return kind_; }

private:
    error_kind kind_;
};

std::string_view to_string(error_kind k) noexcept;

} // namespace common::redis
