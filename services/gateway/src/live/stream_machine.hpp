#pragma once

#include "live/message.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace gateway {

/**
 * A first-in first-out queue that costs nothing while empty (std::deque allocates its blocks up front)
 * and gives its memory back once drained: an idle stream holds none.
 * Thread-safety: none; it belongs to one stream_machine.
 */
template <class T>
class lean_fifo
{
public:
    bool empty() const noexcept { return head_ == items_.size(); }
    std::size_t size() const noexcept { return items_.size() - head_; }
    void push_back(T v) { items_.push_back(std::move(v)); }
    T take_front()
    {
        T v = std::move(items_[head_++]);
        if (empty())
            clear();
        return v;
    }
    auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
    auto end() { return items_.end(); }
    T take(typename std::vector<T>::iterator it)
    {
        T v = std::move(*it);
        items_.erase(it);
        if (empty())
            clear();
        return v;
    }
    void clear()
    {
        items_.clear();
        head_ = 0;
        if (items_.capacity() > 8)
            items_.shrink_to_fit();
    }

private:
    std::vector<T> items_;
    std::size_t head_ = 0;
};

/**
 * The live stream's logic without I/O: what one user's stream sends, reads and waits for, driven by
 * what happens to it. The driver (live_stream) asks `next()` for an action, performs it, and reports the
 * result of those that have one; messages from Redis and Redis outages may be reported at any time.
 *
 * Guarantees, for every stream:
 *  - events are sent in strictly increasing `seq` order, each once (the hub hands them over in seq
 *    order; anything at or below the cursor is skipped);
 *  - the cursor (the last seq sent, or `after`) is exact: every stored event of the user's homes up to
 *    it has been sent, so a client resuming with the highest seq it received misses nothing. After
 *    messages may have been lost (Redis outage, a home gained), live events wait until the store filled
 *    the gap; when they pile up past the backlog, the stream closes 4008 (reconnect with `after`);
 *  - the homes are what MODE says: read at open, on announced changes, after Redis outages and every
 *    `recheck`; a lost home stops before its next event, a gained one is caught up from the store.
 *
 * Runs on its live_stream's strand, which alone calls it; it has no executor of its own and no locks.
 * Thread-safety: none (one stream, one strand).
 */
class stream_machine
{
public:
    using clock = std::chrono::steady_clock;
    using item = std::shared_ptr<const live_message>;
    using row = std::pair<std::int64_t, std::string>; // a stored event: seq, payload

    struct limits
    {
        std::size_t backlog = 1024;                         // messages waiting before "too slow"
        clock::duration recheck = std::chrono::seconds(60); // MB_LIVE_RECHECK
        clock::duration max_age = std::chrono::minutes(5);  // MB_MEMBERSHIP_MAX_AGE
        clock::duration session_check = std::chrono::seconds(5);
        clock::duration shared_read = std::chrono::seconds(1); // a read this recent counts as new
        int page = 500;                                        // rows per catch-up read
    };

    struct action
    {
        enum class kind_t {
            send,          ///< send `shared->payload` when set, else `text`
            subscribe,     ///< add the stream to `channels`
            unsubscribe,   ///< remove it from `channels`
            read_homes,    ///< read the homes from MODE (one started at `at` or later will do) → homes_read/_failed
            sync_hub,      ///< wait until the subscriptions are in effect → hub_synced
            read_top,      ///< the store's last seq → top_read / store_failed
            read_page,     ///< up to `limit` events of `homes` above `from` → page_read / store_failed
            check_session, ///< does the session still hold → session_checked
            wait,          ///< nothing to do before `at` unless an input comes
            close,         ///< close with `code`, `text` the reason; the stream is over
        };
        kind_t kind = kind_t::wait;
        std::string text{};
        item shared{};
        std::vector<std::string> channels{};
        std::vector<std::int64_t> homes{};
        std::int64_t from = 0;
        int limit = 0;
        clock::time_point at{};
        std::uint16_t code = 0;
    };

    static constexpr std::uint16_t close_try_again_later = 1013;
    static constexpr std::uint16_t close_unauthenticated = 4001;
    static constexpr std::uint16_t close_too_slow = 4008;

    /** `user_id`: the user's notification channel; `mode_user`: their MODE user (member removals). */
    stream_machine(limits l, std::string user_id, std::optional<std::int64_t> mode_user,
                   std::optional<std::int64_t> after, clock::time_point now);

    // What happens at any time:
    /** A message on one of the stream's channels (in the hub's order). */
    void push(item m);
    /** Messages may have been lost; the store and MODE are asked again after `spread`. */
    void redis_lost(clock::time_point now, clock::duration spread);

    // Results of the action asked for:
    /** MODE's list of the user's homes (ascending), as it was at `read_at`. */
    void homes_read(const std::vector<std::int64_t>& homes, clock::time_point read_at);
    /** The homes could not be read (MODE unreachable or refusing); asked again after `retry_in`. */
    void homes_failed(clock::time_point now, clock::duration retry_in);
    void hub_synced();
    void top_read(std::int64_t top);
    void page_read(const std::vector<row>& rows);
    /** The store failed; asked again after `retry_in`. */
    void store_failed(clock::time_point now, clock::duration retry_in);
    void session_checked(bool holds);

    /** The next thing to do. After `close`, the stream is over. */
    action next(clock::time_point now);

    std::int64_t cursor() const noexcept { return cursor_; }
    const std::set<std::int64_t>& homes() const noexcept { return homes_; }
    bool is_live() const noexcept { return phase_ == phase::live; }
    bool is_closed() const noexcept { return phase_ == phase::closed; }
    std::size_t queued() const noexcept { return queue_.size(); }

private:
    enum class phase { opening, live, closed };
    enum class awaiting { nothing, homes, sync, top, page, session };

    void follow(const std::vector<std::int64_t>& list, bool tell);
    void drop_home(std::int64_t home);
    void handle(const item& m);
    void finish_catch_up();
    void send_text(std::string text);
    action ask(awaiting what, action a);
    action close(std::uint16_t code, std::string reason);
    bool takes_next_item();

    limits limits_;
    std::string user_channel_;
    std::optional<std::int64_t> mode_user_;
    std::optional<std::int64_t> after_;
    phase phase_ = phase::opening;
    awaiting awaiting_ = awaiting::nothing;
    lean_fifo<action> out_;
    lean_fifo<item> queue_;
    std::set<std::int64_t> homes_;
    bool subscribed_user_ = false;
    std::int64_t cursor_ = 0;
    clock::time_point opened_at_;
    clock::time_point homes_read_at_{};
    // Owed work:
    bool too_slow_ = false;
    bool reload_ = false;                   // read the homes again ...
    clock::time_point reload_not_before_{}; // ... with a read started no earlier
    bool sync_ = false;                     // wait for the subscriptions before catching up
    bool catch_up_ = false;                 // the store must fill a possible gap before live events
    bool catching_ = false;                 // reading pages now, up to top_
    std::int64_t top_ = 0;
    std::uint64_t losses_ = 0;       // redis_lost() calls so far
    std::uint64_t losses_before_ = 0; // ... when the running catch-up read its top
    clock::time_point retry_at_{};          // no store or MODE read before then
    clock::time_point next_session_;
    clock::time_point next_recheck_;
};

} // namespace gateway
