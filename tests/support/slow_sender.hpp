#pragma once

// A client that sends a request too slowly, for the tests of the servers' header and body timeouts: it
// tells whether, and when, the server closed the connection on it.

#include <chrono>
#include <string>

namespace test {

/** What a slow sender saw. */
struct slow_send_result
{
    /** The server ended the connection (end of stream, or a reset) before `limit` passed. */
    bool closed = false;
    /** From the moment `head` was written to the moment the end was seen (or `limit` passed). */
    std::chrono::milliseconds after{0};
    /** How the end was seen: "eof", "reset", "write failed: ..." or "still open". */
    std::string how;
    /** Whatever the server sent before it closed (an answer, if it gave one). */
    std::string received;
    /** How many bytes of `trickle` were sent. */
    std::size_t trickled = 0;
};

/**
 * Connects to 127.0.0.1:port, writes `head` at once, then one byte of `trickle` every `gap` (so the
 * connection is never idle for longer than `gap`), and watches for the server to close the
 * connection, at most for `limit` from the end of `head`. Throws std::runtime_error when it cannot
 * connect or write `head`. Blocks the caller; reentrant.
 */
slow_send_result send_slowly(unsigned short port, const std::string& head, const std::string& trickle,
                             std::chrono::milliseconds gap, std::chrono::milliseconds limit);

} // namespace test
