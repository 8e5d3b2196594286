#pragma once

#include "sink.hpp"

#include "common/net/aliases.hpp"
#include "common/web/websocket.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace modesim {

using namespace common::aliases;

/**
 * The outgoing side of one websocket: a small bounded queue of frames on the connection's strand, and the
 * writer that drains it (`write_loop`, run by the connection's handler next to its read loop). The state
 * pushes to it from any thread through `frame_sink`; pushing posts to the strand and never blocks, so one
 * slow socket cannot hold up a fan-out.
 *
 * A peer that reads too slowly to keep up (more than `limit` frames waiting) is closed with 1008 (policy
 * violation, reason "too slow"): MODE's clients reconnect, and a stream that silently skipped events would be
 * worse. `end` closes with the given code after the frame being written, dropping the rest.
 *
 * Thread-safety: push and end from any thread; write_loop on the strand given at construction (the
 * connection's), once.
 */
class ws_outbox final : public frame_sink, public std::enable_shared_from_this<ws_outbox>
{
public:
    static constexpr std::size_t default_limit = 64;

    explicit ws_outbox(net::any_io_executor strand, std::size_t limit = default_limit);

    void push(std::shared_ptr<const std::string> frame) override;
    void end(std::uint16_t code, std::string reason) override;

    /** Writes the queued frames to `ws` until the connection ends or `end` is called (then closes it). */
    net::awaitable<void> write_loop(common::web::ws_connection& ws);

private:
    net::any_io_executor strand_;
    std::size_t limit_;
    net::steady_timer wake_; // parked writer; cancel() wakes it
    std::deque<std::shared_ptr<const std::string>> queue_;
    std::optional<std::pair<std::uint16_t, std::string>> ending_;
};

} // namespace modesim
