#include "live/stream_machine.hpp"

#include "common/mode/event.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace gateway {

namespace {

std::string home_frame(const char* type, std::int64_t home)
{
    return boost::json::serialize(boost::json::object{{"type", type}, {"homeId", home}});
}

std::string ready_frame(std::int64_t cursor, const std::set<std::int64_t>& homes)
{
    boost::json::array list;
    for (auto h : homes)
        list.push_back(h);
    return boost::json::serialize(
        boost::json::object{{"type", "ready"}, {"lastSeq", cursor}, {"homes", std::move(list)}});
}

std::vector<std::string> channels_of(const std::set<std::int64_t>& homes)
{
    std::vector<std::string> out;
    out.reserve(homes.size());
    for (auto h : homes)
        out.push_back(common::mode::home_channel(h));
    return out;
}

} // namespace

stream_machine::stream_machine(limits l, std::string user_id, std::optional<std::int64_t> mode_user,
                               std::optional<std::int64_t> after, clock::time_point now)
    : limits_(l)
    , user_channel_(common::mode::user_channel(user_id))
    , mode_user_(mode_user)
    , after_(after)
    , opened_at_(now)
    , next_session_(now + l.session_check)
    , next_recheck_(now + l.recheck)
{
}

void stream_machine::push(item m)
{
    if (phase_ == phase::closed || too_slow_)
        return;
    if (queue_.size() >= limits_.backlog) {
        too_slow_ = true;
        queue_.clear();
        return;
    }
    queue_.push_back(std::move(m));
}

void stream_machine::redis_lost(clock::time_point now, clock::duration spread)
{
    if (phase_ == phase::closed)
        return;
    // Every stream of an instance hears this at once: their reads are spread out.
    if (!reload_ && !catch_up_)
        retry_at_ = now + spread;
    // Announcements may have been lost too: the homes are read again.
    reload_ = true;
    reload_not_before_ = now;
    catch_up_ = true;
    ++losses_;
}

void stream_machine::follow(const std::vector<std::int64_t>& list, bool tell)
{
    std::set<std::int64_t> now(list.begin(), list.end());
    std::set<std::int64_t> added, lost;
    std::set_difference(now.begin(), now.end(), homes_.begin(), homes_.end(), std::inserter(added, added.end()));
    std::set_difference(homes_.begin(), homes_.end(), now.begin(), now.end(), std::inserter(lost, lost.end()));
    homes_ = std::move(now);
    // A lost home stops before anything else is sent: its queued events are skipped (not in homes_).
    if (!lost.empty())
        out_.push_back(action{.kind = action::kind_t::unsubscribe, .channels = channels_of(lost)});
    auto wanted = channels_of(added);
    if (!subscribed_user_) {
        wanted.push_back(user_channel_);
        subscribed_user_ = true;
    }
    if (!wanted.empty())
        out_.push_back(action{.kind = action::kind_t::subscribe, .channels = std::move(wanted)});
    if (tell) {
        for (auto h : lost)
            send_text(home_frame("home.removed", h));
        for (auto h : added)
            send_text(home_frame("home.added", h));
    }
    if (!added.empty() && phase_ == phase::live) {
        // Its events may have been published before its channel was subscribed: once the subscription
        // holds, the store fills them in, and live events wait for that.
        sync_ = true;
        catch_up_ = true;
    }
}

void stream_machine::drop_home(std::int64_t home)
{
    if (homes_.erase(home) == 0)
        return;
    out_.push_back(action{.kind = action::kind_t::unsubscribe, .channels = {common::mode::home_channel(home)}});
    send_text(home_frame("home.removed", home));
}

void stream_machine::send_text(std::string text)
{
    out_.push_back(action{.kind = action::kind_t::send, .text = std::move(text)});
}

void stream_machine::homes_read(const std::vector<std::int64_t>& homes, clock::time_point read_at)
{
    awaiting_ = awaiting::nothing;
    homes_read_at_ = read_at;
    // A change announced while the read ran may not be in it.
    if (reload_not_before_ <= read_at)
        reload_ = false;
    if (phase_ == phase::opening) {
        follow(homes, false);
        sync_ = true;
        return;
    }
    follow(homes, true);
}

void stream_machine::homes_failed(clock::time_point now, clock::duration retry_in)
{
    awaiting_ = awaiting::nothing;
    if (phase_ == phase::opening) {
        out_.push_back(close(close_try_again_later, "a service the stream needs is unavailable"));
        return;
    }
    if (now - homes_read_at_ > limits_.max_age) {
        // What MODE said about the homes is too old to go on with.
        out_.push_back(close(close_try_again_later, "the homes cannot be confirmed with MODE now"));
        return;
    }
    retry_at_ = now + retry_in;
}

void stream_machine::hub_synced()
{
    awaiting_ = awaiting::nothing;
    sync_ = false;
}

void stream_machine::top_read(std::int64_t top)
{
    awaiting_ = awaiting::nothing;
    if (phase_ == phase::opening && !after_) {
        // Live from here: what is stored now is history the client did not ask for.
        cursor_ = top;
        finish_catch_up();
        return;
    }
    top_ = top;
    catching_ = true;
    if (homes_.empty() || cursor_ >= top_)
        finish_catch_up();
}

void stream_machine::page_read(const std::vector<row>& rows)
{
    awaiting_ = awaiting::nothing;
    for (const auto& [seq, payload] : rows) {
        // The store answers in seq order, and nothing committed later can fall at or below top_.
        if (seq > top_)
            break;
        if (seq <= cursor_)
            continue;
        cursor_ = seq;
        send_text(common::mode::live_event_json(seq, payload));
    }
    if (rows.size() < static_cast<std::size_t>(limits_.page) || (!rows.empty() && rows.back().first >= top_))
        finish_catch_up();
}

void stream_machine::finish_catch_up()
{
    cursor_ = std::max(cursor_, top_);
    catching_ = false;
    // A loss reported since the top was read may hide events above it: another round is owed.
    catch_up_ = losses_ != losses_before_;
    if (phase_ == phase::opening) {
        send_text(ready_frame(cursor_, homes_));
        phase_ = phase::live;
    }
}

void stream_machine::store_failed(clock::time_point now, clock::duration retry_in)
{
    awaiting_ = awaiting::nothing;
    catching_ = false;
    if (phase_ == phase::opening) {
        out_.push_back(close(close_try_again_later, "a service the stream needs is unavailable"));
        return;
    }
    // Sent so far stays sent: the cursor moved with each event, so the retry goes on from there.
    catch_up_ = true;
    retry_at_ = now + retry_in;
}

void stream_machine::session_checked(bool holds)
{
    awaiting_ = awaiting::nothing;
    if (!holds)
        out_.push_back(close(close_unauthenticated, "the session ended"));
}

stream_machine::action stream_machine::ask(awaiting what, action a)
{
    awaiting_ = what;
    return a;
}

stream_machine::action stream_machine::close(std::uint16_t code, std::string reason)
{
    phase_ = phase::closed;
    queue_.clear();
    return action{.kind = action::kind_t::close, .text = std::move(reason), .code = code};
}

void stream_machine::handle(const item& m)
{
    using kind = live_message::kind_t;
    switch (m->kind) {
    case kind::event:
        if (homes_.count(m->home) != 0 && m->seq > cursor_) {
            cursor_ = m->seq;
            out_.push_back(action{.kind = action::kind_t::send, .shared = m});
        }
        return;
    case kind::member_removed:
        // A removal made through a gateway: applied at once, before MODE is asked again.
        if (mode_user_ && *mode_user_ == m->mode_user)
            drop_home(m->home);
        return;
    case kind::home_deleted:
        drop_home(m->home);
        return;
    case kind::homes_changed:
    case kind::notification:
        if (m->kind == kind::homes_changed || m->reload) {
            if (!reload_ || m->received > reload_not_before_)
                reload_not_before_ = m->received;
            reload_ = true;
        }
        if (m->kind == kind::notification)
            out_.push_back(action{.kind = action::kind_t::send, .shared = m});
        return;
    case kind::other:
        return;
    }
}

// Takes the next queued message that may go now: while the store owes a gap, only what is not an
// event (removals, notifications) goes; events wait, in order.
bool stream_machine::takes_next_item()
{
    if (queue_.empty())
        return false;
    if (!catch_up_) {
        auto m = queue_.take_front();
        handle(m);
        return true;
    }
    auto it = std::find_if(queue_.begin(), queue_.end(),
                           [](const item& m) { return m->kind != live_message::kind_t::event; });
    if (it == queue_.end())
        return false;
    auto m = queue_.take(it);
    handle(m);
    return true;
}

stream_machine::action stream_machine::next(clock::time_point now)
{
    for (;;) {
        if (!out_.empty()) {
            return out_.take_front();
        }
        if (awaiting_ != awaiting::nothing)
            throw std::logic_error("stream_machine: next() before the result of the last action");
        switch (phase_) {
        case phase::closed:
            return action{.kind = action::kind_t::close, .text = "closed", .code = 1000};
        case phase::opening:
            if (homes_.empty() && !subscribed_user_)
                return ask(awaiting::homes, action{.kind = action::kind_t::read_homes, .at = opened_at_ - limits_.shared_read});
            if (sync_)
                return ask(awaiting::sync, action{.kind = action::kind_t::sync_hub});
            if (!catching_) {
                cursor_ = after_.value_or(0);
                losses_before_ = losses_;
                return ask(awaiting::top, action{.kind = action::kind_t::read_top});
            }
            return ask(awaiting::page, action{.kind = action::kind_t::read_page,
                                              .homes = {homes_.begin(), homes_.end()}, .from = cursor_,
                                              .limit = limits_.page});
        case phase::live:
            break;
        }
        if (too_slow_)
            return close(close_too_slow, "too slow to keep up; reconnect with after");
        if (now >= next_session_) {
            next_session_ = now + limits_.session_check;
            return ask(awaiting::session, action{.kind = action::kind_t::check_session});
        }
        if (now >= next_recheck_) {
            next_recheck_ = now + limits_.recheck;
            if (!reload_)
                reload_not_before_ = now - limits_.shared_read;
            reload_ = true;
        }
        if (sync_)
            return ask(awaiting::sync, action{.kind = action::kind_t::sync_hub});
        if (catching_)
            return ask(awaiting::page, action{.kind = action::kind_t::read_page,
                                              .homes = {homes_.begin(), homes_.end()}, .from = cursor_,
                                              .limit = limits_.page});
        if ((reload_ || catch_up_) && now >= retry_at_) {
            if (reload_)
                return ask(awaiting::homes, action{.kind = action::kind_t::read_homes, .at = reload_not_before_});
            losses_before_ = losses_;
            return ask(awaiting::top, action{.kind = action::kind_t::read_top});
        }
        if (takes_next_item())
            continue;
        auto until = std::min(next_session_, next_recheck_);
        if (reload_ || catch_up_)
            until = std::min(until, std::max(retry_at_, now));
        return action{.kind = action::kind_t::wait, .at = until};
    }
}

} // namespace gateway
