#pragma once

#include "common/metrics.hpp"
#include "common/net/aliases.hpp"
#include "common/redis/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace common::redis {

enum class message_kind
{
    message,     // a PUBLISHed message on one of our channels
    reconnected, // the connection came back and every channel is subscribed again: messages
                 // published during the outage are lost, so catch up from the database now
    overflowed,  // the receive queue was full and messages were dropped: catch up likewise
};

/** What `subscriber::receive()` delivers. `channel` and `payload` are set for kind::message only.
 */
struct message
{
    message_kind kind = message_kind::message;
    std::string channel;
    std::string payload;
};

namespace detail {
class subscriber_impl;
}

/**
 * Receives PUBLISHed messages on a dedicated Redis connection (SUBSCRIBE puts a connection in a
 * mode where it can do nothing else).
 *
 * The channel set is tracked here: subscribe()/unsubscribe() may be called before or after start(),
 * and the whole set is subscribed again after every reconnect (same backoff and logging as
 * `connection`, tag `redis.sub`). Once the re-subscription is confirmed, a `reconnected` marker is
 * queued (not on the first connect), so a consumer that catches up from the database at the marker
 * misses nothing published after it.
 *
 * Queue policy: messages wait in a bounded queue (`capacity`, default 1024). When it is full, new
 * messages are dropped, `redis.sub.overflow` is logged once per episode, and the next receive()
 * returns an `overflowed` marker (before the older queued messages). Consumers must therefore treat
 * both markers as "re-read the state" and tolerate duplicates after them.
 *
 * A dead or frozen peer is noticed through TCP errors, keepalive and a heartbeat: every
 * command_timeout / 2 the connection subscribes again to a channel of its own (hiredis 0.14 drops
 * PING answers in subscribed mode; SUBSCRIBE is always answered), and when no answer comes within
 * command_timeout the connection is dropped and made again, so connected() tells the truth.
 *
 * Executors: hiredis work runs on a private strand of `ex`; receive() resumes on the awaiting
 * coroutine's executor. Thread safety: distinct objects: safe. Shared objects: safe; all members
 * may be called from any thread; receive() by one consumer at a time. Destroy the subscriber before
 * its io_context; the destructor calls stop() and does not block.
 */
class subscriber
{
public:
    subscriber(net::any_io_executor ex, config cfg, std::size_t capacity = 1024);
    ~subscriber();
    subscriber(const subscriber&) = delete;
    subscriber& operator=(const subscriber&) = delete;

    /** Starts connecting in the background (once). */
    void start();
    /** Closes the connection for good; a pending or later receive() throws error(unavailable). */
    void stop();

    void subscribe(std::string channel);
    void unsubscribe(std::string channel);

    /** Waits until every subscribe() called before it is in effect on the server (answers come back in
        order, so a round trip behind them is enough): true then. False when not connected, or no
        answer within command_timeout; the channels are then subscribed with the next connection, which
        a `reconnected` marker announces. */
    net::awaitable<bool> sync();

    /** The next message or marker. Throws error(unavailable) once stopped. */
    net::awaitable<message> receive();

    /** True while connected (AUTH/SELECT/PING done; SUBSCRIBE may still be in flight). */
    bool connected() const noexcept;
    std::string last_error() const;
    /** Messages dropped so far because the queue was full (a counter for metrics and tests). */
    std::uint64_t dropped() const noexcept;

    /** Times a connection was made again after one had been up (a metric, and what tests check). */
    std::uint64_t reconnects() const noexcept;
    /** Also counts them on `c` (a metric of the registry, which must outlive this object). */
    void count_reconnects_on(metrics::counter& c) noexcept;

private:
    std::shared_ptr<detail::subscriber_impl> impl_;
};

} // namespace common::redis
