#pragma once

#include "common/net/aliases.hpp"
#include "common/redis/subscriber.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace common::metrics {
class registry;
}

namespace gateway {

using namespace common::aliases;

/**
 * The gateway instance's one Redis subscription for live streams: each channel is subscribed while at
 * least one listener wants it, and every message is handed to the listeners of its channel.
 * Thread-safety: shared. Listener callbacks run on the hub's loop and must only post to their own
 * executor; a listener must be removed before it is destroyed.
 */
class live_hub
{
public:
    class listener
    {
    public:
        virtual ~listener() = default;
        /** One message, shared by every listener of its channel (read-only). */
        struct message
        {
            /** What a message on a home channel is; parsed once per instance, for every listener. */
            enum class kind_t {
                event,          ///< a stored event (`seq` > 0), sent to the client as it is
                member_removed, ///< MODE user `mode_user` left the home: their streams drop it at once
                home_deleted,   ///< the home is gone: every stream drops it
                other,          ///< on a user's channel: a notification; elsewhere: ignored
            };
            std::string channel;
            kind_t kind = kind_t::other;
            std::int64_t seq = 0;       // event: the event's seq
            std::int64_t home = 0;      // on a home channel: the home
            std::int64_t mode_user = 0; // member_removed: the MODE user
            std::string payload;
            std::chrono::steady_clock::time_point received; // when it came from Redis
        };
        /** A message on one of the listener's channels. */
        virtual void deliver(std::shared_ptr<const message> m) = 0;
        /** Messages may have been lost (Redis reconnected, or the hub fell behind): catch up from the store. */
        virtual void resync() = 0;
    };

    live_hub(net::any_io_executor ex, common::redis::config cfg, common::metrics::registry& metrics);

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
    common::redis::subscriber subscriber_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::unordered_set<listener*>> channels_;
    std::unordered_map<listener*, int> registered_; // listener → channels it is on
    std::atomic<std::size_t> listeners_{0};
    std::atomic<bool> stopped_{false};
};

} // namespace gateway
