#pragma once

// How the state reaches an open websocket without knowing about sockets: the connection registers a
// `frame_sink` (ws_outbox.hpp implements it), the state keeps a weak pointer and, outside its mutex, pushes
// frames to it.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace modesim {

/**
 * The sending side of one open websocket (a device command channel or an app event stream).
 *
 * Thread-safety: `push` and `end` may be called from any thread and never block; frames are delivered in
 * the order pushed.
 */
class frame_sink
{
public:
    virtual ~frame_sink() = default;

    /** Queues one text frame (shared, so one copy serves every recipient). */
    virtual void push(std::shared_ptr<const std::string> frame) = 0;

    /** Closes the socket with `code` and `reason`; frames not yet written are dropped. */
    virtual void end(std::uint16_t code, std::string reason) = 0;
};

/** Pushes `frame` to every sink still open. Call it without holding the state's mutex. */
inline void push_all(const std::vector<std::weak_ptr<frame_sink>>& sinks, const std::shared_ptr<const std::string>& frame)
{
    for (const auto& weak : sinks)
        if (auto sink = weak.lock())
            sink->push(frame);
}

/** Ends every sink still open. Call it without holding the state's mutex. */
inline void end_all(const std::vector<std::weak_ptr<frame_sink>>& sinks, std::uint16_t code, const std::string& reason)
{
    for (const auto& weak : sinks)
        if (auto sink = weak.lock())
            sink->end(code, reason);
}

/** Close codes the emulator sends (RFC 6455). */
namespace close_code {
/** The key the socket was opened with stopped working (DELETE /userSession, user deleted, /_sim/reset), or
    the peer reads too slowly to keep up (its queue is full). */
inline constexpr std::uint16_t policy_violation = 1008;
} // namespace close_code

} // namespace modesim
