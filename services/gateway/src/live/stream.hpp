#pragma once

#include "live/hub.hpp"
#include "live/live_metrics.hpp"
#include "live/stream_machine.hpp"
#include "sessions/session_auth.hpp"

#include "common/web/websocket.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gateway {

struct settings;
class event_history_store;
class home_directory;

/** What one live stream needs; all shared and outliving it. */
struct stream_parts
{
    const settings& cfg;
    session_auth& auth;
    event_history_store& store; // stored events
    live_hub& hub;
    home_directory& homes; // the user's homes, per MODE
    live_metrics& metrics;
};

/**
 * One user's live stream on one WebSocket: the I/O around a stream_machine, which decides everything
 * (live/stream_machine.hpp). It runs on the connection's strand; the hub posts messages and resyncs
 * there. Each action of the machine is carried out here: frames written (an event's payload is the one
 * the hub shares with every stream, not a copy), subscriptions made, MODE and the store read.
 */
class live_stream final : public live_hub::listener,
                          public common::web::write_listener,
                          public std::enable_shared_from_this<live_stream>
{
public:
    live_stream(stream_parts parts, common::web::ws_connection& ws, caller who, std::string token,
                std::optional<std::int64_t> after);
    ~live_stream() override = default;

    void deliver(const std::shared_ptr<const live_message>& m) override;
    void resync() override;
    std::size_t shard() const override { return ws_.shard(); }
    net::any_io_executor executor() const override { return strand_; }

    /** Streams until the client leaves or the stream is closed. */
    net::awaitable<void> run();

    void written(bool ok) override;

    /** The close code the stream ended with by its own decision (4008, 4001, 1013), or 0. */
    std::uint16_t closed_with() const noexcept { return closed_with_; }

private:
    using clock = std::chrono::steady_clock;

    /** While the driver waits: runs the machine from here, starting sends of shared payloads without
        waking the driver; anything else goes to the driver (pending_). */
    void pump();

    net::awaitable<void> drive();
    /** Carries out one action; false when the stream is over. */
    net::awaitable<bool> perform(stream_machine::action& a);
    net::awaitable<bool> session_holds();

    stream_parts parts_;
    common::web::ws_connection& ws_;
    net::any_io_executor strand_;
    caller who_;
    std::string token_;
    net::steady_timer wake_;
    net::steady_timer reader_wait_; // run() waits on it for the reader to end
    bool reader_done_ = false;      // on the strand
    stream_machine machine_;              // on the strand
    std::vector<std::string> channels_;   // subscribed now
    // The fast path (pump), all on the strand: a live event is written straight from deliver() when the
    // driver is idle, which spares two coroutine resumptions and a timer per event and stream.
    bool waiting_ = false;                        // the driver waits on wake_ ...
    clock::time_point waiting_until_{};           // ... until then
    bool writing_ = false;                        // a write started by pump() is under way
    std::size_t writing_bytes_ = 0;               // ... of a frame this long
    std::uint16_t closed_with_ = 0;               // see closed_with()
    bool broken_ = false;                         // one failed: the connection is gone
    bool ended_ = false;                          // run() is over: nothing more may touch ws_
    std::optional<stream_machine::action> pending_; // taken by pump(), for the driver to perform
};

} // namespace gateway
