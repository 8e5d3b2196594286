#pragma once

#include "common/metrics.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gateway {

/** Why a live stream ended: the label of `mb_live_streams_closed_total`. */
enum class stream_end : std::size_t {
    client,               ///< the client closed it (or went away)
    going_away_1001,      ///< the server's shutdown
    bad_request_1008,     ///< a malformed query (`after`)
    unauthenticated_4001, ///< no valid session at the start, or the session ended
    unavailable_1013,     ///< the store or MODE could not serve it
    backlog_4008,         ///< too slow to keep up: its backlog overflowed
    idle_timeout,         ///< nothing came from the client within MB_WS_IDLE_TIMEOUT
    write_timeout,        ///< a write made no progress within MB_WS_WRITE_TIMEOUT (a client not reading)
    too_big_1009,         ///< the client sent a message over the limit
    error,                ///< anything else (1011, a broken connection)
};

inline constexpr std::array<std::string_view, 10> stream_end_names{
    "client",        "going_away_1001", "bad_request_1008", "unauthenticated_4001", "unavailable_1013",
    "backlog_4008",  "idle_timeout",    "write_timeout",    "too_big_1009",         "error"};

/**
 * The live streams' counters, looked up in the registry once, so that the fan-out's hot path pays one
 * relaxed atomic add per count. Thread-safety: every member may be used from any thread.
 */
class live_metrics
{
public:
    explicit live_metrics(common::metrics::registry& m)
        : opened_(m.counter_for("mb_live_streams_opened_total", "Live event streams opened (WebSocket upgraded)"))
        , frames_(m.counter_for("mb_live_frames_sent_total", "Frames written to live event streams"))
        , bytes_(m.counter_for("mb_live_bytes_sent_total", "Bytes of the frames written to live event streams"))
    {
        for (std::size_t i = 0; i < stream_end_names.size(); ++i)
            closed_[i] = &m.counter_for("mb_live_streams_closed_total", "Live event streams ended, by reason",
                                        {{"reason", std::string(stream_end_names[i])}});
    }

    void opened() noexcept { opened_.inc(); }
    void closed(stream_end why) noexcept { closed_[static_cast<std::size_t>(why)]->inc(); }
    /** One frame of `frame_bytes` (header included) sent. */
    void sent(std::size_t frame_bytes) noexcept
    {
        frames_.inc();
        bytes_.inc(frame_bytes);
    }
    /** The size on the wire of a server's text frame carrying `payload_bytes`. */
    static constexpr std::size_t frame_size(std::size_t payload_bytes) noexcept
    {
        return payload_bytes + (payload_bytes < 126 ? 2 : payload_bytes <= 0xffff ? 4 : 10);
    }

private:
    common::metrics::counter& opened_;
    common::metrics::counter& frames_;
    common::metrics::counter& bytes_;
    std::array<common::metrics::counter*, stream_end_names.size()> closed_{};
};

} // namespace gateway
