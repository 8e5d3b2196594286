#pragma once

#include "common/web/types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace common::web {

/** WebSocket close codes the services use (RFC 6455 7.4.1; 4000-4999 are the application's own). */
namespace ws_close {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;   // server shutting down: reconnect later
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;      // a message over server_options::ws_message_limit
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t try_again_later = 1013;
} // namespace ws_close

/** `payload` as one unmasked WebSocket text frame (RFC 6455 5.2), header included: what a server sends,
    built once for a payload that many connections send with ws_connection::send_frame_now(). */
std::string text_frame(std::string_view payload);

/** Told, on the connection's executor, how a write started with ws_connection::start_write_shared
    ended: `ok` is false when the connection is gone or closing. */
class write_listener
{
public:
    virtual void written(bool ok) = 0;

protected:
    ~write_listener() = default;
};

/**
 * One accepted WebSocket connection, as a ws_handler sees it (router::add_websocket). The server does
 * the handshake, then runs the handler on the connection's strand; when the handler returns, the server
 * closes the connection (1000, or 1011 when the handler threw) unless it is closed already, and logs one
 * line (request id, path, close code, duration). The stream type (plain or TLS) is hidden, so handlers
 * compile once.
 *
 * Limits and keep-alive (server_options): messages over `ws_message_limit` close the connection with
 * 1009; the server pings a connection idle for half of `ws_idle_timeout` and drops it (read() → nullopt)
 * when nothing at all arrived for the whole `ws_idle_timeout`; the handshake and the closing handshake
 * each have 10 s; a write that has not completed within `ws_write_timeout` (a peer that stopped
 * reading) cuts the connection (write() → false, read() → nullopt). No compression (permessage-deflate
 * is off).
 *
 * Keep a read() pending for the life of the connection: reading is what answers the peer's pings,
 * takes in its pongs and its close frame. A handler that also sends runs both loops on the strand:
 *
 *     using namespace boost::asio::experimental::awaitable_operators;
 *     net::awaitable<void> read_loop(ws_connection& ws) {
 *         for (;;) {
 *             auto msg = co_await ws.read();        // (GCC 12: never co_await inside a condition)
 *             if (!msg)
 *                 co_return;                        // closed by the peer, shutdown, timeout, error
 *             handle(*msg);
 *         }
 *     }
 *     net::awaitable<void> write_loop(ws_connection& ws, outbox& out) {
 *         for (;;) {
 *             std::string next = co_await out.next(); // a bounded queue others post to (on ws.executor())
 *             bool sent = co_await ws.write(std::move(next));
 *             if (!sent)
 *                 co_return;                        // the connection is gone
 *         }
 *     }
 *     co_await (read_loop(ws) || write_loop(ws, out)); // the first to finish cancels the other
 *
 * To end the connection from the writer, call close() while the read loop is pending (Beast then
 * completes the closing handshake through that read, which returns nullopt); the read loop ends and
 * so does the `||`. Cancelling a pending read() instead (the `||` does so when the writer finishes
 * first) leaves the connection unusable: the server then just drops it.
 *
 * Others (a hub fanning out events) must not call write() themselves: they post to ws.executor() and
 * hand the message to the connection's own writer (a bounded queue), which writes one frame at a time.
 *
 * Shutdown: server::shutdown closes every WebSocket at once with 1001 (going away), without waiting
 * for the grace period. The handler sees it as read() returning nullopt (and write() returning false);
 * it should then return promptly. `stopping()` also tells whether the close was the server's
 * shutdown. A connection still open when the grace period ends is cut off.
 *
 * Thread-safety: use it only on executor() (the handler's own strand), from the handler and the
 * coroutines it awaits; at most one read() and one write() at a time. The reference is valid until the
 * handler returns.
 */
class ws_connection
{
public:
    virtual ~ws_connection() = default;

    /** The next text or binary message; nullopt once the connection is closed, by either side, by a
        timeout or an error. */
    virtual net::awaitable<std::optional<std::string>> read() = 0;

    /** Reads and drops whatever the peer sends until the connection ends, which is what a handler that
        expects nothing from the client keeps pending (it answers pings, takes in the close). Unlike a
        pending read(), it holds no read buffer while the connection is idle. */
    virtual net::awaitable<void> discard()
    {
        for (;;) {
            auto msg = co_await read();
            if (!msg)
                co_return;
        }
    }
    /** Sends `text` as one text frame; false when the connection is gone or closing. One at a time. */
    virtual net::awaitable<bool> write(std::string text) = 0;

    /** The same without a copy: `text` must stay alive and unchanged until the call completes (a
        payload shared by many connections). */
    virtual net::awaitable<bool> write_shared(const std::string& text) = 0;

    /** write_shared() without a coroutine, for a fan-out that sends the same payload to many connections:
        starts the write and returns; `done->written(ok)` follows on executor(), never from within this
        call. `text` and `done` are kept until then. Counts as the one write at a time. */
    virtual void start_write_shared(std::shared_ptr<const std::string> text, std::shared_ptr<write_listener> done);

    /** Sends a whole frame made by text_frame() at once, without starting a write: true when the
        connection took it (the bytes are copied or sent before this returns). False, and nothing sent,
        when it cannot take it now (closing, a write of its own under way, its socket's backlog full,
        or a stream that does not offer it, such as TLS): then use start_write_shared(). The fan-out's
        fast path: one send system call per delivery, no operation and no completion. */
    virtual bool send_frame_now(std::string_view frame)
    {
        (void)frame;
        return false;
    }
    /** Starts the closing handshake with `code` and `reason` (≤ 123 bytes) and waits for it to finish
        (bounded); a no-op when a close is already under way. A pending read() then ends with nullopt. */
    virtual net::awaitable<void> close(std::uint16_t code, std::string reason) = 0;

    /** The connection's strand: where the handler runs and where others post work for it. */
    virtual net::any_io_executor executor() const = 0;

    /** Which shard of the server the connection runs on (server_options::shards; 0 without shards):
        connections of one shard share executor(). */
    virtual std::size_t shard() const = 0;

    /** The code of the close frame the peer sent (its own close, or its answer to ours), if any. */
    virtual std::optional<std::uint16_t> close_code() const = 0;

    /** True once the server's shutdown has begun closing this connection (1001). */
    virtual bool stopping() const = 0;

    /** Why the connection ended, once it has: "peer" (the peer's close), "server" (close() called),
        "shutdown", "timeout" (nothing arrived within ws_idle_timeout), "write_timeout", "too_big" or
        "error"; empty while it goes on. For metrics and logs. */
    virtual std::string_view end_cause() const { return {}; }
};

} // namespace common::web
