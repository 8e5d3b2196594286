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
 *
 * Fan-out: listeners live on the server's shards (web::server_options::shards; a listener's executor
 * is its shard's strand). Each shard keeps its own listeners by channel, touched only on its strand; a
 * message is posted once to each shard that has listeners for it, one shared immutable copy for all,
 * and the shard hands it to each of them there. No lock is held while delivering; the hub's lock only
 * guards which shards listen to which channel, changed when streams come and go.
 *
 * Thread-safety: shared. add() and remove() must be called on the listener's executor; deliver() and
 * resync() are called there. A listener must be removed before it is destroyed.
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
        virtual void deliver(const std::shared_ptr<const live_message>& m) = 0;
        /** Messages may have been lost (Redis reconnected, or the hub fell behind): catch up from the store. */
        virtual void resync() = 0;
        /** The shard the listener runs on and its strand (web::ws_connection::shard, executor). */
        virtual std::size_t shard() const = 0;
        virtual net::any_io_executor executor() const = 0;
    };

    /** `shards`: the server's (at least 1). `hold_limit`: how long an event may wait for the published
        watermark before every listener is told to resync instead (a webhook-ingest that does not
        announce it, or one stuck). */
    live_hub(net::any_io_executor ex, common::redis::config cfg, common::metrics::registry& metrics,
             std::size_t shards, std::chrono::milliseconds hold_limit = std::chrono::seconds(5));
    ~live_hub();

    /** Adds `l` to these channels (subscribing those nobody listened to). On l's executor. */
    void add(listener& l, const std::vector<std::string>& channels);
    /** Removes `l` from these channels (unsubscribing those nobody listens to any more). On l's executor. */
    void remove(listener& l, const std::vector<std::string>& channels);
    /** True once every channel added before the call is subscribed on the server (see subscriber::sync). */
    net::awaitable<bool> sync() { return subscriber_.sync(); }

    /** Receives until stop(). */
    net::awaitable<void> run();
    void stop();

    std::size_t listeners() const noexcept { return listeners_.load(); }

private:
    using clock = std::chrono::steady_clock;
    struct shard;

    shard& shard_of(listener& l);
    void deliver(const std::shared_ptr<const message>& m);
    void release_locked(std::int64_t through, std::vector<std::shared_ptr<const message>>& out);
    void resync_all(const char* why);
    /** Stops waiting for the watermark: the held events are dropped and every listener resyncs. */
    void give_up_locked(const char* why);
    net::awaitable<void> watch();

    net::any_io_executor ex_;
    common::redis::subscriber subscriber_;
    std::chrono::milliseconds hold_limit_;
    std::vector<std::unique_ptr<shard>> shards_;
    std::mutex mutex_;
    // Under mutex_: how many listeners each shard has on each channel.
    std::unordered_map<std::string, std::vector<std::uint32_t>> listening_;
    // Under mutex_: events waiting, in seq order, until the published watermark covers them.
    std::map<std::int64_t, std::shared_ptr<const message>> held_;
    std::int64_t released_ = 0; // every event up to it was handed over (or is the store's to give)
    bool resync_due_ = false;   // give_up_locked asked for one, done once the lock is released
    std::atomic<std::size_t> listeners_{0};
    std::atomic<std::size_t> held_count_{0};
    std::atomic<bool> stopped_{false};
    common::metrics::counter& late_;
    common::metrics::counter& posts_; // messages posted to shards: once per shard, not per listener
    common::metrics::counter& resyncs_;
};

} // namespace gateway
