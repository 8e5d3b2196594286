#pragma once

#include "live/message.hpp"

#include "common/net/aliases.hpp"
#include "common/redis/subscriber.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace common::metrics {
class registry;
class counter;
}

namespace gateway {

using namespace common::aliases;

/**
 * The gateway instance's one Redis subscription for live streams: each channel is subscribed while at
 * least one listener wants it, and every message is handed to the listeners of its channel.
 *
 * Order: events are handed over in increasing seq order. Each waits until the published watermark
 * (common::mode::published_channel) reaches it: by then every event below it on our channels has
 * arrived, whichever webhook-ingest instance published it and whenever its relay did. An event at or
 * below what was already handed over is a repeat, or one the store gives (listeners catch up after a
 * resync), and is dropped.
 * Thread-safety: shared. Listener callbacks run on the hub's loop and must only post to their own
 * executor; a listener must be removed before it is destroyed.
 */
class live_hub
{
public:
    using message = live_message;

    class listener
    {
    public:
        virtual ~listener() = default;
        /** A message on one of the listener's channels; events come in increasing seq order. */
        virtual void deliver(std::shared_ptr<const live_message> m) = 0;
        /** Messages may have been lost (Redis reconnected, or the hub fell behind): catch up from the store. */
        virtual void resync() = 0;
    };

    /** `hold_limit`: how long an event may wait for the published watermark before every listener is
        told to resync instead (a webhook-ingest that does not announce it, or one stuck). */
    live_hub(net::any_io_executor ex, common::redis::config cfg, common::metrics::registry& metrics,
             std::chrono::milliseconds hold_limit = std::chrono::seconds(5));

    /** Adds `l` to these channels (subscribing those nobody listened to). */
    void add(listener& l, const std::vector<std::string>& channels);
    /** Removes `l` from these channels (unsubscribing those nobody listens to any more). */
    void remove(listener& l, const std::vector<std::string>& channels);
    /** True once every channel added before the call is subscribed on the server (see subscriber::sync). */
    net::awaitable<bool> sync() { return subscriber_.sync(); }

    /** Receives until stop(). */
    net::awaitable<void> run();
    void stop();

    std::size_t listeners() const noexcept { return listeners_.load(); }

private:
    using clock = std::chrono::steady_clock;
    void deliver_locked(const std::shared_ptr<const message>& m);
    void release_locked(std::int64_t through);
    void resync_locked(const char* why);
    /** Stops waiting for the watermark: the held events are dropped and every listener resyncs. */
    void give_up_locked(const char* why);
    net::awaitable<void> watch();

    net::any_io_executor ex_;
    common::redis::subscriber subscriber_;
    std::chrono::milliseconds hold_limit_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::unordered_set<listener*>> channels_;
    std::unordered_map<listener*, int> registered_; // listener → channels it is on
    // Events wait here, in seq order, until the published watermark covers them.
    std::map<std::int64_t, std::shared_ptr<const message>> held_;
    std::int64_t released_ = 0; // every event up to it was handed over (or is the store's to give)
    std::atomic<std::size_t> listeners_{0};
    std::atomic<std::size_t> held_count_{0};
    std::atomic<bool> stopped_{false};
    common::metrics::counter& late_;
};

} // namespace gateway
