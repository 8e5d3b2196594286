#include "live/stream.hpp"

#include "live/home_directory.hpp"
#include "membership_store.hpp"
#include "settings.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/mode/event.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <random>

namespace gateway {

namespace web = common::web;

namespace {

constexpr std::uint16_t close_unauthenticated = 4001;
constexpr std::uint16_t close_too_slow = 4008;
constexpr int catch_up_page = 500;
// Seqs delivered live above the watermark are remembered (to skip them when catching up); past this
// many, a catch-up moves the watermark on and forgets them.
constexpr std::size_t delivered_limit = 4096;
// How often an open stream checks that its session still holds.
constexpr auto session_recheck = std::chrono::seconds(5);
// A read of the homes this recent counts as made now: streams of one user opening together share it.
constexpr auto shared_read_window = std::chrono::seconds(1);

// A random duration in [lo, hi): spreads the queries of many streams told to resync at once.
std::chrono::milliseconds jitter(std::chrono::milliseconds lo, std::chrono::milliseconds hi)
{
    thread_local std::minstd_rand gen{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> d(lo.count(), hi.count() - 1);
    return std::chrono::milliseconds(d(gen));
}

std::string home_frame(const char* type, std::int64_t home)
{
    return boost::json::serialize(boost::json::object{{"type", type}, {"homeId", home}});
}

// True once the `||` in run() cancelled the writer (the reader ended: the connection is over).
net::awaitable<bool> cancelled()
{
    auto state = co_await net::this_coro::cancellation_state;
    co_return state.cancelled() != net::cancellation_type::none;
}

} // namespace

live_stream::live_stream(stream_parts parts, web::ws_connection& ws, caller who, std::string token)
    : parts_(parts)
    , ws_(ws)
    , strand_(ws.executor())
    , who_(std::move(who))
    , token_(std::move(token))
    , wake_(strand_)
{
}

void live_stream::deliver(std::shared_ptr<const message> m)
{
    net::post(strand_, [self = shared_from_this(), m = std::move(m)]() mutable { self->enqueue(std::move(m)); });
}

void live_stream::resync()
{
    net::post(strand_, [self = shared_from_this()] {
        // Every stream of the instance is told at once: spread their queries over a second.
        if (!self->resync_ && !self->reload_)
            self->store_retry_at_ = clock::now() + jitter(std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
        // Announcements may have been lost too: the homes are read again.
        self->reload_ = true;
        self->reload_not_before_ = clock::now();
        self->resync_ = true;
        self->wake_.cancel();
    });
}

net::awaitable<void> live_stream::run(std::optional<std::int64_t> after)
{
    using namespace boost::asio::experimental::awaitable_operators;
    std::exception_ptr failed;
    try {
        co_await (read_loop() || write_loop(after));
    } catch (...) {
        failed = std::current_exception();
    }
    parts_.hub.remove(*this, channels_);
    if (failed)
        std::rethrow_exception(failed);
}

void live_stream::enqueue(item i)
{
    if (queue_.size() >= parts_.cfg.live_backlog) {
        too_slow_ = true;
        queue_.clear();
    } else {
        queue_.push_back(std::move(i));
    }
    wake_.cancel();
}

// Reading answers pings and takes in the close; clients have nothing to say.
net::awaitable<void> live_stream::read_loop()
{
    for (;;) {
        auto msg = co_await ws_.read();
        if (!msg)
            co_return;
    }
}

net::awaitable<bool> live_stream::send(std::string text)
{
    co_return co_await ws_.write(std::move(text));
}

std::vector<std::string> live_stream::channels_of(const std::set<std::int64_t>& homes) const
{
    std::vector<std::string> out;
    out.reserve(homes.size());
    for (auto h : homes)
        out.push_back(common::mode::home_channel(h));
    return out;
}

net::awaitable<bool> live_stream::follow(const home_list& list, bool tell, bool& gained)
{
    std::set<std::int64_t> now(list.homes.begin(), list.homes.end());
    std::set<std::int64_t> added, lost;
    std::set_difference(now.begin(), now.end(), homes_.begin(), homes_.end(), std::inserter(added, added.end()));
    std::set_difference(homes_.begin(), homes_.end(), now.begin(), now.end(), std::inserter(lost, lost.end()));
    homes_read_at_ = list.read_at;
    gained = !added.empty();
    // Lost homes stop before anything else is sent: their queued events are skipped (not in homes_).
    parts_.hub.remove(*this, channels_of(lost));
    homes_ = std::move(now);
    auto wanted = channels_of(added);
    if (channels_.empty())
        wanted.push_back(common::mode::user_channel(who_.user.id));
    parts_.hub.add(*this, wanted);
    channels_ = channels_of(homes_);
    channels_.push_back(common::mode::user_channel(who_.user.id));
    if (tell) {
        for (auto h : lost)
            if (!co_await send(home_frame("home.removed", h)))
                co_return false;
        for (auto h : added)
            if (!co_await send(home_frame("home.added", h)))
                co_return false;
    }
    co_return true;
}

net::awaitable<bool> live_stream::drop_home(std::int64_t home)
{
    if (homes_.erase(home) == 0)
        co_return true;
    auto ch = common::mode::home_channel(home);
    parts_.hub.remove(*this, {ch});
    channels_.erase(std::remove(channels_.begin(), channels_.end(), ch), channels_.end());
    co_return co_await send(home_frame("home.removed", home));
}

// Sends every stored event of the user's homes above `from` not sent yet; the watermark moves up.
net::awaitable<bool> live_stream::catch_up(std::int64_t from)
{
    // Everything committed up to `top` is readable now (seq follows commit order), so once the pages
    // below are read, every event up to `top` has been sent.
    auto top = co_await parts_.store.last_seq();
    std::vector<std::int64_t> homes(homes_.begin(), homes_.end());
    std::int64_t at = from;
    while (!homes.empty() && at < top) {
        auto rows = co_await parts_.store.events_of_homes(homes, at, catch_up_page);
        for (auto& [seq, payload] : rows) {
            at = seq;
            if (seq > top || delivered_.count(seq) != 0)
                continue;
            bool sent = co_await send(common::mode::live_event_json(seq, payload));
            if (!sent)
                co_return false;
            // Remembered until the watermark passes it: a catch-up cut short by the store is
            // retried, and must not send it again.
            delivered_.insert(seq);
        }
        if (rows.size() < static_cast<std::size_t>(catch_up_page))
            break;
    }
    watermark_ = std::max(watermark_, top);
    delivered_.erase(delivered_.begin(), delivered_.upper_bound(watermark_));
    co_return true;
}

net::awaitable<bool> live_stream::send_item(const message& i)
{
    using kind = message::kind_t;
    if (i.home != 0) {
        switch (i.kind) {
        case kind::event:
            if (homes_.count(i.home) == 0 || i.seq <= watermark_ || !delivered_.insert(i.seq).second)
                co_return true;
            if (delivered_.size() > delivered_limit)
                resync_ = true;
            co_return co_await send(i.payload);
        case kind::member_removed:
            // A removal made through a gateway: applied at once, before MODE is asked again.
            if (who_.user.mode_user_id && *who_.user.mode_user_id == i.mode_user)
                co_return co_await drop_home(i.home);
            co_return true;
        case kind::home_deleted:
            co_return co_await drop_home(i.home);
        case kind::other:
            co_return true;
        }
        co_return true;
    }
    // A notification for this user; a change of their homes is for us only.
    boost::system::error_code ec;
    auto v = boost::json::parse(i.payload, ec);
    if (ec || !v.is_object())
        co_return true;
    const auto* type = v.as_object().if_contains("type");
    if (type == nullptr || !type->is_string())
        co_return true;
    if (type->get_string() == "membership.changed" || type->get_string() == "member.added") {
        if (!reload_ || i.received > reload_not_before_)
            reload_not_before_ = i.received;
        reload_ = true;
    }
    if (type->get_string() == "membership.changed")
        co_return true;
    co_return co_await send(i.payload);
}

net::awaitable<bool> live_stream::session_holds()
{
    try {
        (void)co_await parts_.auth.authenticate_token(token_);
        co_return true;
    } catch (const web::problem& p) {
        if (static_cast<unsigned>(p.status()) != 401)
            co_return true; // the store is down: keep the stream, check again later
    } catch (const std::exception&) {
        co_return true;
    }
    co_return false;
}

// Re-reads the homes and/or catches up, as flagged; throws (flags kept) when MODE or the store fails.
net::awaitable<bool> live_stream::refresh()
{
    if (reload_) {
        auto list = co_await parts_.homes.homes(who_, reload_not_before_);
        reload_ = false;
        bool gained = false;
        if (!co_await follow(list, true, gained))
            co_return false;
        if (gained) {
            // A new home's events may have been published before its channel was subscribed:
            // catching up from the watermark finds them in the store.
            (void)co_await parts_.hub.sync();
            resync_ = true;
        }
    }
    if (resync_) {
        bool ok = co_await catch_up(watermark_);
        resync_ = false;
        co_return ok;
    }
    co_return true;
}

// Reads the homes from MODE, subscribes, catches up from the store and sends `ready`; false when the
// connection ended. Throws when MODE or the store cannot give what it takes.
net::awaitable<bool> live_stream::open(std::optional<std::int64_t> after)
{
    auto first = co_await parts_.homes.homes(who_, clock::now() - shared_read_window);
    bool gained = false;
    (void)co_await follow(first, false, gained);
    // Subscribed before reading the store: nothing published from here on can fall between the two.
    (void)co_await parts_.hub.sync();
    std::int64_t from = after ? *after : co_await parts_.store.last_seq();
    watermark_ = from;
    if (!co_await catch_up(from))
        co_return false;
    boost::json::array homes;
    for (auto h : homes_)
        homes.push_back(h);
    boost::json::object ready{{"type", "ready"}, {"lastSeq", watermark_}, {"homes", std::move(homes)}};
    co_return co_await send(boost::json::serialize(ready));
}

net::awaitable<void> live_stream::write_loop(std::optional<std::int64_t> after)
{
    bool unavailable = false;
    bool opened = false;
    try {
        opened = co_await open(after);
    } catch (const web::problem& p) {
        common::log::warn("live.homes_refused", {{"user_id", who_.user.id}, {"code", p.code()}});
        unavailable = true;
    } catch (const common::unavailable_error& e) {
        common::log::warn("live.unavailable", {{"code", e.code()}, {"error", e.what()}});
        unavailable = true;
    }
    if (unavailable) {
        // Closed from here, not by an exception through run()'s `||`: the client learns at once that
        // it should come back later (with `after`).
        co_await ws_.close(web::ws_close::try_again_later, "a service the stream needs is unavailable");
        co_return;
    }
    if (!opened)
        co_return;
    auto next_check = clock::now() + session_recheck;
    auto next_recheck = clock::now() + parts_.cfg.live_recheck;
    for (;;) {
        if (co_await cancelled())
            co_return;
        if (too_slow_) {
            common::log::info("live.too_slow", {{"user_id", who_.user.id}});
            // Completes the closing handshake through the pending read, which then ends run()'s `||`.
            co_await ws_.close(close_too_slow, "too slow to keep up; reconnect with after");
            co_return;
        }
        auto now = clock::now();
        if (now >= next_check) {
            next_check = now + session_recheck;
            if (!co_await session_holds()) {
                co_await ws_.close(close_unauthenticated, "the session ended");
                co_return;
            }
        }
        if (now >= next_recheck) {
            next_recheck = now + parts_.cfg.live_recheck;
            if (!reload_)
                reload_not_before_ = now - shared_read_window;
            reload_ = true;
        }
        if ((reload_ || resync_) && now >= store_retry_at_) {
            bool failed = false;
            bool ok = true;
            try {
                ok = co_await refresh();
            } catch (const common::unavailable_error&) {
                failed = true;
            } catch (const web::problem&) {
                failed = true; // MODE refused to list the homes: try again, within the same bound
            }
            if (failed) {
                if (reload_ && std::chrono::system_clock::now() - homes_read_at_ > parts_.cfg.membership_max_age) {
                    // What MODE said about the homes is too old to go on with.
                    common::log::warn("live.homes_too_old", {{"user_id", who_.user.id}});
                    co_await ws_.close(web::ws_close::try_again_later, "the homes cannot be confirmed with MODE now");
                    co_return;
                }
                // Live events keep flowing meanwhile; MODE and the store are asked again in a moment.
                store_retry_at_ = clock::now() + jitter(std::chrono::milliseconds(1000), std::chrono::milliseconds(3000));
                continue;
            }
            if (!ok)
                co_return;
            continue;
        }
        if (queue_.empty()) {
            auto until = std::min(next_check, next_recheck);
            if (reload_ || resync_)
                until = std::min(until, store_retry_at_);
            wake_.expires_at(until);
            co_await wake_.async_wait(net::as_tuple(net::use_awaitable));
            continue;
        }
        auto i = std::move(queue_.front());
        queue_.pop_front();
        if (!co_await send_item(*i))
            co_return;
    }
}

} // namespace gateway
