#include "live/stream.hpp"

#include "homes/event_history_store.hpp"
#include "live/home_directory.hpp"
#include "settings.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/util/backoff.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace gateway {

namespace web = common::web;

namespace {

stream_machine::limits limits_of(const settings& cfg)
{
    stream_machine::limits l;
    l.backlog = cfg.live_backlog;
    l.recheck = cfg.live_recheck;
    l.max_age = cfg.membership_max_age;
    return l;
}

} // namespace

live_stream::live_stream(stream_parts parts, web::ws_connection& ws, caller who, std::string token,
                         std::optional<std::int64_t> after)
    : parts_(parts)
    , ws_(ws)
    , strand_(ws.executor())
    , who_(std::move(who))
    , token_(std::move(token))
    , wake_(strand_)
    , reader_wait_(strand_)
    , machine_(limits_of(parts.cfg), who_.user.id, who_.user.mode_user_id, after, clock::now())
{
}

// Both on the strand (the hub calls them from the shard).
void live_stream::deliver(const std::shared_ptr<const live_message>& m)
{
    machine_.push(m);
    pump();
}

void live_stream::resync()
{
    // Random: spreads the queries of many streams told to resync at once.
    using std::chrono::milliseconds;
    machine_.redis_lost(clock::now(), common::random_between(milliseconds(0), milliseconds(1000)));
    pump();
}

void live_stream::pump()
{
    using kind = stream_machine::action::kind_t;
    if (ended_ || writing_)
        return; // written() pumps again
    if (!waiting_ || pending_) {
        wake_.cancel(); // the driver is busy (it asks the machine itself next) or already told
        return;
    }
    auto a = machine_.next(clock::now());
    // Shared frames go out at once, one send each, while the connection takes them (the common case).
    while (a.kind == kind::send && a.shared && !a.shared->frame.empty() && ws_.send_frame_now(a.shared->frame)) {
        parts_.metrics.sent(a.shared->frame.size()); // one relaxed add per count
        a = machine_.next(clock::now());
    }
    if (a.kind == kind::send && a.shared) {
        writing_ = true;
        writing_bytes_ = live_metrics::frame_size(a.shared->payload.size());
        // The payload is the hub's, shared with every stream (aliasing: it lives as long as the message).
        ws_.start_write_shared(std::shared_ptr<const std::string>(a.shared, &a.shared->payload), shared_from_this());
        return;
    }
    if (a.kind == kind::wait) {
        if (a.at < waiting_until_)
            wake_.cancel(); // the driver waits again, until the earlier time
        return;
    }
    pending_ = std::move(a);
    wake_.cancel();
}

void live_stream::written(bool ok)
{
    writing_ = false;
    if (!ok) {
        broken_ = true;
        wake_.cancel();
        return;
    }
    parts_.metrics.sent(writing_bytes_);
    pump();
}

// The reader runs beside the driver on the strand (a plain spawn: cheaper per frame and per stream than
// an awaitable `||`, whose cancellation slots every operation would carry). When it ends, the
// connection is over and the driver stops; when the driver ends first, its close (or the broken
// connection) ends the read, which is waited for: the connection must not be left with a read pending.
net::awaitable<void> live_stream::run()
{
    auto self = shared_from_this();
    // Reading answers pings and takes in the close; clients have nothing to say.
    net::co_spawn(strand_, ws_.discard(), [self](std::exception_ptr) {
        self->reader_done_ = true;
        self->wake_.cancel();
        self->reader_wait_.cancel();
    });
    std::exception_ptr failed;
    try {
        co_await drive();
    } catch (...) {
        failed = std::current_exception();
    }
    ended_ = true; // a write under way ends on its own; the close waits for it
    parts_.hub.remove(*this, channels_);
    if (failed && !reader_done_)
        co_await ws_.close(web::ws_close::internal_error, "");
    while (!reader_done_) {
        reader_wait_.expires_after(std::chrono::seconds(30));
        (void)co_await reader_wait_.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (failed)
        std::rethrow_exception(failed);
}

net::awaitable<void> live_stream::drive()
{
    using kind = stream_machine::action::kind_t;
    for (;;) {
        if (reader_done_ || broken_)
            co_return;
        stream_machine::action a;
        if (pending_) {
            a = std::move(*pending_);
            pending_.reset();
        } else if (writing_) {
            a.at = clock::time_point::max(); // wait: written() wakes the driver when needed
        } else {
            a = machine_.next(clock::now());
        }
        if (a.kind == kind::wait) {
            // Where an idle stream spends its life: waited here, not in perform(), whose larger frame
            // is then not kept for every idle stream. Meanwhile pump() sends live events.
            waiting_ = true;
            waiting_until_ = a.at;
            wake_.expires_at(a.at);
            (void)co_await wake_.async_wait(net::as_tuple(net::use_awaitable));
            waiting_ = false;
            continue;
        }
        bool more = co_await perform(a);
        if (!more)
            co_return;
    }
}

net::awaitable<bool> live_stream::perform(stream_machine::action& a)
{
    using kind = stream_machine::action::kind_t;
    auto retry = [] { return common::random_between(std::chrono::milliseconds(1000), std::chrono::seconds(3)); };
    switch (a.kind) {
    case kind::send: {
        bool ok = false;
        std::size_t bytes = 0;
        if (a.shared) { // the hub's payload, shared by every stream; it lives as long as `a`
            bytes = live_metrics::frame_size(a.shared->payload.size());
            ok = co_await ws_.write_shared(a.shared->payload);
        } else {
            bytes = live_metrics::frame_size(a.text.size());
            ok = co_await ws_.write(std::move(a.text));
        }
        if (ok)
            parts_.metrics.sent(bytes);
        co_return ok;
    }
    case kind::subscribe:
        parts_.hub.add(*this, a.channels);
        channels_.insert(channels_.end(), a.channels.begin(), a.channels.end());
        co_return true;
    case kind::unsubscribe:
        parts_.hub.remove(*this, a.channels);
        for (const auto& ch : a.channels)
            channels_.erase(std::remove(channels_.begin(), channels_.end(), ch), channels_.end());
        co_return true;
    case kind::read_homes: {
        bool failed = false;
        try {
            auto list = co_await parts_.homes.homes(who_, a.at);
            auto age = std::chrono::system_clock::now() - list.read_at;
            machine_.homes_read(list.homes, clock::now() - std::chrono::duration_cast<clock::duration>(age));
        } catch (const web::problem& p) {
            common::log::warn("live.homes_refused", {{"user_id", who_.user.id}, {"code", p.code()}});
            failed = true;
        } catch (const common::unavailable_error& e) {
            common::log::warn("live.unavailable", {{"code", e.code()}, {"error", e.what()}});
            failed = true;
        }
        if (failed)
            machine_.homes_failed(clock::now(), retry());
        co_return true;
    }
    case kind::sync_hub:
        (void)co_await parts_.hub.sync();
        machine_.hub_synced();
        co_return true;
    case kind::read_top:
    case kind::read_page: {
        bool failed = false;
        try {
            if (a.kind == kind::read_top)
                machine_.top_read(co_await parts_.store.last_seq());
            else
                machine_.page_read(co_await parts_.store.events_of_homes(std::move(a.homes), a.from, a.limit));
        } catch (const std::exception& e) {
            common::log::warn("live.store_failed", {{"error", e.what()}});
            failed = true;
        }
        if (failed)
            machine_.store_failed(clock::now(), retry());
        co_return true;
    }
    case kind::check_session:
        machine_.session_checked(co_await session_holds());
        co_return true;
    case kind::wait: // drive() waits itself
        co_return true;
    case kind::close:
        if (a.code == stream_machine::close_too_slow)
            common::log::info("live.too_slow", {{"user_id", who_.user.id}});
        closed_with_ = a.code;
        // Completes the closing handshake through the pending read, which then ends the reader.
        co_await ws_.close(a.code, a.text);
        co_return false;
    }
    co_return false;
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

} // namespace gateway
