#include "live/hub.hpp"

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/mode/event.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

namespace gateway {

namespace {

// Past this many events waiting for the watermark, the hub gives up on it and has listeners resync.
constexpr std::size_t held_limit = 100000;

const boost::json::string* type_of(const boost::json::value& v)
{
    if (!v.is_object())
        return nullptr;
    const auto* type = v.as_object().if_contains("type");
    return type != nullptr && type->is_string() ? &type->get_string() : nullptr;
}

} // namespace

// On a home channel: webhook-ingest's {"type":"event","seq":N,...}, or the gateway's own
// {"type":"member.removed","userId":M} and {"type":"home.deleted"}. On a user's channel: a
// notification, of which membership.changed is for the stream only.
void classify(live_message& m)
{
    using kind = live_message::kind_t;
    m.kind = kind::other;
    auto home = common::mode::home_of_channel(m.channel);
    boost::system::error_code ec;
    auto v = boost::json::parse(m.payload, ec);
    const auto* type = ec ? nullptr : type_of(v);
    if (!home) {
        if (type == nullptr)
            return;
        m.kind = *type == "membership.changed" ? kind::homes_changed : kind::notification;
        m.reload = *type == "member.added";
        return;
    }
    m.home = *home;
    if (type == nullptr)
        return;
    const auto& o = v.as_object();
    if (*type == "event") {
        const auto* seq = o.if_contains("seq");
        if (seq != nullptr && seq->is_int64() && seq->get_int64() > 0) {
            m.kind = kind::event;
            m.seq = seq->get_int64();
        }
    } else if (*type == "member.removed") {
        const auto* user = o.if_contains("userId");
        if (user != nullptr && user->is_int64()) {
            m.kind = kind::member_removed;
            m.mode_user = user->get_int64();
        }
    } else if (*type == "home.deleted") {
        m.kind = kind::home_deleted;
    }
}

live_hub::live_hub(net::any_io_executor ex, common::redis::config cfg, common::metrics::registry& metrics,
                   std::chrono::milliseconds hold_limit)
    : ex_(ex)
    , subscriber_(std::move(ex), std::move(cfg), 16384)
    , hold_limit_(hold_limit)
    , late_(metrics.counter_for("mb_live_watermark_late_total",
                                "Times events waited too long for the published watermark and streams resynced"))
{
    metrics.add_callback_gauge("mb_live_streams", "Open live event streams on this instance",
                               [this] { return static_cast<double>(listeners_.load()); });
    metrics.add_callback_gauge("mb_live_held_events", "Events waiting for the published watermark",
                               [this] { return static_cast<double>(held_count_.load()); });
    subscriber_.subscribe(std::string(common::mode::published_channel()));
}

void live_hub::add(listener& l, const std::vector<std::string>& channels)
{
    std::lock_guard lock(mutex_);
    auto& count = registered_[&l];
    if (count == 0)
        listeners_.fetch_add(1);
    for (const auto& ch : channels) {
        auto& set = channels_[ch];
        if (!set.insert(&l).second)
            continue;
        ++count;
        if (set.size() == 1)
            subscriber_.subscribe(ch);
    }
}

void live_hub::remove(listener& l, const std::vector<std::string>& channels)
{
    std::lock_guard lock(mutex_);
    auto reg = registered_.find(&l);
    if (reg == registered_.end())
        return;
    for (const auto& ch : channels) {
        auto it = channels_.find(ch);
        if (it == channels_.end() || it->second.erase(&l) == 0)
            continue;
        --reg->second;
        if (it->second.empty()) {
            channels_.erase(it);
            subscriber_.unsubscribe(ch);
        }
    }
    if (reg->second <= 0) {
        registered_.erase(reg);
        listeners_.fetch_sub(1);
    }
}

void live_hub::deliver_locked(const std::shared_ptr<const message>& m)
{
    auto it = channels_.find(m->channel);
    if (it == channels_.end())
        return;
    for (auto* l : it->second)
        l->deliver(m);
}

void live_hub::release_locked(std::int64_t through)
{
    auto end = held_.upper_bound(through);
    for (auto it = held_.begin(); it != end; ++it)
        deliver_locked(it->second);
    held_.erase(held_.begin(), end);
    held_count_.store(held_.size());
    released_ = std::max(released_, through);
}

void live_hub::resync_locked(const char* why)
{
    common::log::info("live.resync", {{"why", why}});
    for (auto& [l, count] : registered_)
        l->resync();
}

net::awaitable<void> live_hub::run()
{
    subscriber_.start();
    net::co_spawn(ex_, watch(), net::detached);
    while (!stopped_.load()) {
        common::redis::message m;
        try {
            m = co_await subscriber_.receive();
        } catch (const common::redis::error&) {
            co_return; // stopped
        }
        if (m.kind != common::redis::message_kind::message) {
            std::lock_guard lock(mutex_);
            resync_locked(m.kind == common::redis::message_kind::reconnected ? "redis reconnected"
                                                                              : "subscription queue overflowed");
            continue;
        }
        if (m.channel == common::mode::published_channel()) {
            if (auto through = common::mode::parse_published(m.payload)) {
                std::lock_guard lock(mutex_);
                release_locked(*through);
            }
            continue;
        }
        auto shared = std::make_shared<message>();
        shared->received = clock::now();
        shared->channel = std::move(m.channel);
        shared->payload = std::move(m.payload);
        classify(*shared);
        std::lock_guard lock(mutex_);
        if (shared->kind != message::kind_t::event) {
            deliver_locked(shared);
            continue;
        }
        if (shared->seq <= released_)
            continue; // a repeat, or an event the store already gives
        held_.emplace(shared->seq, std::move(shared));
        held_count_.store(held_.size());
        if (held_.size() > held_limit)
            give_up_locked("too many events waiting for the published watermark");
    }
}

// Events that wait too long for the watermark (a webhook-ingest that does not announce it): the hub
// stops waiting, and every listener catches up from the store, which has them all in order.
net::awaitable<void> live_hub::watch()
{
    net::steady_timer timer(ex_);
    while (!stopped_.load()) {
        timer.expires_after(hold_limit_ / 4);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        std::lock_guard lock(mutex_);
        if (!held_.empty() && clock::now() - held_.begin()->second->received >= hold_limit_)
            give_up_locked("events waited too long for the published watermark");
    }
}

void live_hub::give_up_locked(const char* why)
{
    late_.inc();
    common::log::warn("live.watermark_late", {{"held", held_.size()}, {"oldest_seq", held_.begin()->first}});
    released_ = std::max(released_, held_.rbegin()->first);
    held_.clear();
    held_count_.store(0);
    resync_locked(why);
}

void live_hub::stop()
{
    stopped_.store(true);
    subscriber_.stop();
}

} // namespace gateway
