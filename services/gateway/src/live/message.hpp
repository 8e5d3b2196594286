#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace gateway {

/**
 * One message from Redis, parsed once per instance and shared, read-only, by every stream it reaches.
 */
struct live_message
{
    enum class kind_t {
        event,          ///< a stored event (`seq` > 0) of `home`, sent to the client as it is
        member_removed, ///< MODE user `mode_user` left `home`: their streams drop it at once
        home_deleted,   ///< `home` is gone: every stream drops it
        homes_changed,  ///< on a user's channel: their homes changed; read them again (not sent)
        notification,   ///< on a user's channel: sent as it is; `reload`: read the homes again too
        other,          ///< nothing a stream acts on
    };
    std::string channel;
    kind_t kind = kind_t::other;
    std::int64_t seq = 0;       // event: the event's seq
    std::int64_t home = 0;      // on a home channel: the home
    std::int64_t mode_user = 0; // member_removed: the MODE user
    bool reload = false;        // notification: the user's homes may have changed
    std::string payload;
    std::string frame; // event, notification: `payload` as a whole WebSocket frame, built once for every socket
    std::chrono::steady_clock::time_point received; // when it came from Redis
};

/** Sets kind, seq, home, mode_user and reload from channel and payload. */
void classify(live_message& m);

} // namespace gateway
