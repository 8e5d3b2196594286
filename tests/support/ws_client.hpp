#pragma once

// A small synchronous WebSocket client for tests (plain or TLS). Every step runs the client's own
// io_context and is bounded by a timeout, so a misbehaving server fails the test instead of hanging it.

#include "support/http_call.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace test {

/** The server refused the WebSocket handshake: `status()` is its HTTP answer (0 if there was none). */
class ws_handshake_error : public std::runtime_error
{
public:
    ws_handshake_error(unsigned status, std::string body, const std::string& what);
    unsigned status() const noexcept { return status_; }
    const std::string& body() const noexcept { return body_; }

private:
    unsigned status_;
    std::string body_;
};

/**
 * One WebSocket connection to 127.0.0.1:port. Messages that arrive while the test is not reading are
 * kept, in order, for the next read(). The client answers the server's pings only while it reads
 * (read, wait_closed, close): a test that wants an unresponsive peer simply does not read.
 *
 * Thread-safety: one thread at a time (it is a test helper); several clients may live side by side.
 */
class ws_client
{
public:
    /** Connects and does the handshake with `headers` added (Authorization, ...), within `timeout`.
        Throws ws_handshake_error when the server answers anything but 101, std::runtime_error when it
        cannot connect or the handshake times out. `tls`: TLS without certificate verification. */
    ws_client(unsigned short port, const std::string& target, const header_list& headers = {}, bool tls = false,
              std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~ws_client();
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    /** Sends one text frame; throws std::runtime_error when it cannot (closed, timeout). */
    void send(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /** The next message, or nullopt when none arrives within `timeout` or the connection is closed. */
    std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /** Closes from this side (close frame with `code`, then waits for the server's answer, bounded). */
    void close(std::uint16_t code = 1000, std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /** The code of the close frame the server sent (its own close or its answer to ours), if any. */
    std::optional<std::uint16_t> closed_with() const;

    /** Reads (keeping messages for read()) until the connection ends; false if it is still open after
        `timeout`. A connection that ends without a close frame (dropped) counts as closed too. */
    bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /** False once the connection ended (closed by either side or dropped). */
    bool is_open() const;

    /** The headers of the handshake answer (101). */
    const http::fields& handshake_headers() const;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

} // namespace test
