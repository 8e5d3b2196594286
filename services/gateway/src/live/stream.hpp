#pragma once

#include "live/hub.hpp"
#include "session_auth.hpp"

#include "common/web/websocket.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gateway {

struct settings;
class home_directory;
class membership_store;
struct home_list;

/** What one live stream needs; all shared and outliving it. */
struct stream_parts
{
    const settings& cfg;
    session_auth& auth;
    membership_store& store; // stored events
    live_hub& hub;
    home_directory& homes; // the user's homes, per MODE
};

/**
 * One user's live stream on one WebSocket. Its homes are what MODE says (home_directory): read when it
 * opens, whenever a change is announced, after Redis comes back, and every MB_LIVE_RECHECK; a home
 * gained starts streaming (catching up on it from the store) with a `home.added` frame, a home lost
 * stops at once with a `home.removed` frame. Events come from the hub (Redis) into a bounded queue; the
 * stream runs on the connection's strand and never sends an event twice:
 *   - `watermark_`: every event of the user's homes up to it has been sent (or was before `after`);
 *   - `delivered_`: the seqs above the watermark sent since (live events need not arrive in seq order
 *     when several ingest instances publish).
 */
class live_stream final : public live_hub::listener, public std::enable_shared_from_this<live_stream>
{
public:
    live_stream(stream_parts parts, common::web::ws_connection& ws, caller who, std::string token);
    ~live_stream() override = default;

    void deliver(std::shared_ptr<const message> m) override;
    void resync() override;

    /** Streams until the client leaves or the stream is closed; throws unavailable_error when MODE or
        the store cannot give what opening it takes. */
    net::awaitable<void> run(std::optional<std::int64_t> after);

private:
    using item = std::shared_ptr<const message>;
    using clock = std::chrono::steady_clock;

    void enqueue(item i);
    net::awaitable<void> read_loop();
    net::awaitable<bool> open(std::optional<std::int64_t> after);
    net::awaitable<void> write_loop(std::optional<std::int64_t> after);
    net::awaitable<bool> send(std::string text);
    net::awaitable<bool> send_item(const message& i);
    net::awaitable<bool> catch_up(std::int64_t from);
    /** Makes the stream follow `list`; with `tell`, sends home.added/home.removed for the difference.
        Sets `gained`; false when the connection is gone. */
    net::awaitable<bool> follow(const home_list& list, bool tell, bool& gained);
    net::awaitable<bool> drop_home(std::int64_t home);
    net::awaitable<bool> refresh();
    net::awaitable<bool> session_holds();
    std::vector<std::string> channels_of(const std::set<std::int64_t>& homes) const;

    stream_parts parts_;
    common::web::ws_connection& ws_;
    net::any_io_executor strand_;
    caller who_;
    std::string token_;
    net::steady_timer wake_;
    // On the strand:
    std::deque<item> queue_;
    std::set<std::int64_t> homes_;
    std::vector<std::string> channels_;
    std::chrono::system_clock::time_point homes_read_at_{}; // when MODE said homes_
    std::int64_t watermark_ = 0;
    std::set<std::int64_t> delivered_;
    bool too_slow_ = false;
    bool resync_ = false;                 // catch up from the store
    bool reload_ = false;                 // re-read the homes from MODE
    clock::time_point reload_not_before_{}; // ... with a read started no earlier
    clock::time_point store_retry_at_{};  // no store or MODE query before then
};

} // namespace gateway
