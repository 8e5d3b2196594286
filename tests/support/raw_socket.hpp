#pragma once

// Byte-level clients for protocol-abuse tests: a TCP connection that writes exactly what it is given and
// tells when the peer ended it, and a WebSocket client on top of it that sends frames no well-behaved
// library would (unmasked, invalid UTF-8, oversized, floods of control frames). Every wait is bounded, so a
// server that hangs fails the test instead of hanging it.

#include "support/http_call.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace test {

/** One TCP connection to 127.0.0.1:port. One thread at a time; several may live side by side. */
class raw_connection
{
public:
    /** Connects; throws std::runtime_error when it cannot. */
    explicit raw_connection(unsigned short port);
    ~raw_connection();
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;

    /** Writes all of `bytes` (taking in what has arrived meanwhile, so the peer's writes never back up);
        false when the peer has ended the connection. */
    bool send(std::string_view bytes);
    /** Reads until `done(received())` holds (true), or the peer ends the connection or `timeout` passes
        (false, unless done holds by then). */
    bool read_until(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout);
    /** Reads until the peer ends the connection (true) or `timeout` passes (false). */
    bool wait_closed(std::chrono::milliseconds timeout);
    /** Whatever has arrived and not been consumed; tests may erase what they have read. */
    std::string& received() { return received_; }
    /** The peer ended the connection (end of stream, or a reset). */
    bool peer_closed() const { return closed_; }

private:
    /** One read of what is there, waiting at most `wait`; false once the peer has ended the connection. */
    bool pull(std::chrono::milliseconds wait);

    int fd_ = -1;
    std::string received_;
    bool closed_ = false;
};

/** A WebSocket frame as a client writes it: FIN set unless `fin` is false, the payload masked (with a
    fixed key) unless `masked` is false. */
std::string ws_client_frame(std::uint8_t opcode, std::string_view payload, bool masked = true, bool fin = true);

/** One frame the server sent. */
struct ws_frame
{
    std::uint8_t opcode = 0;
    bool fin = true;
    std::string payload;
    /** A close frame's status code (0 when it carries none). */
    std::uint16_t close_code() const;
};

/** A WebSocket connection whose frames the test writes as bytes. One thread at a time. */
class raw_websocket
{
public:
    /** Connects and upgrades `target` with `headers` added; throws std::runtime_error unless the answer is
        101 within `timeout`. */
    raw_websocket(unsigned short port, const std::string& target, const header_list& headers,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /** Writes `frame_bytes` (see ws_client_frame); false when the server has ended the connection. */
    bool send(std::string_view frame_bytes) { return conn_.send(frame_bytes); }
    /** The next frame from the server; nullopt when none arrives within `timeout` or the connection ended. */
    std::optional<ws_frame> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /** Reads frames until the server's close frame (its code) or the end of the connection without one, or
        `timeout` (nullopt for both). The frames before it are skipped. */
    std::optional<std::uint16_t> close_code(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    raw_connection& connection() { return conn_; }

private:
    raw_connection conn_;
};

} // namespace test
