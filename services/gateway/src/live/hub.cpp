#include "live/hub.hpp"

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/mode/event.hpp"
#include "common/web/websocket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <stdexcept>

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

struct live_hub::shard
{
    net::any_io_executor ex; // the shard's strand: set (under the hub's lock) by the first listener
    // On ex only:
    std::unordered_map<std::string, std::vector<listener*>> channels;
    std::unordered_map<listener*, int> registered; // listener → channels it is on
};

live_hub::live_hub(net::any_io_executor ex, common::redis::config cfg, common::metrics::registry& metrics,
                   std::size_t shards, std::chrono::milliseconds hold_limit)
    : ex_(ex)
    , subscriber_(std::move(ex), std::move(cfg), 16384)
    , hold_limit_(hold_limit)
    , late_(metrics.counter_for("mb_live_watermark_late_total",
                                "Times events waited too long for the published watermark and streams resynced"))
    , posts_(metrics.counter_for("mb_live_shard_posts_total",
                                 "Messages handed to a shard of listeners (once per shard, whatever its listeners)"))
    , resyncs_(metrics.counter_for("mb_live_resyncs_total",
                                   "Times every stream of the instance was told to catch up from the store "
                                   "(Redis reconnected, or the hub fell behind)"))
{
    for (std::size_t i = 0; i < std::max<std::size_t>(1, shards); ++i)
        shards_.push_back(std::make_unique<shard>());
    metrics.add_callback_gauge("mb_live_streams", "Open live event streams on this instance",
                               [this] { return static_cast<double>(listeners_.load()); });
    metrics.add_callback_gauge("mb_live_held_events", "Events waiting for the published watermark",
                               [this] { return static_cast<double>(held_count_.load()); });
    subscriber_.subscribe(std::string(common::mode::published_channel()));
    subscriber_.count_reconnects_on(metrics.counter_for("mb_redis_reconnects_total", common::redis::reconnects_help,
                                                        {{"connection", "live"}}));
}

live_hub::~live_hub() = default;

live_hub::shard& live_hub::shard_of(listener& l)
{
    auto& sh = *shards_.at(l.shard() % shards_.size());
    std::lock_guard lock(mutex_);
    if (!sh.ex)
        sh.ex = l.executor();
    else if (sh.ex != l.executor())
        throw std::logic_error("live_hub: a listener not on its shard's strand");
    return sh;
}

void live_hub::add(listener& l, const std::vector<std::string>& channels)
{
    auto& sh = shard_of(l);
    auto index = l.shard() % shards_.size();
    auto& count = sh.registered[&l];
    if (count == 0)
        listeners_.fetch_add(1);
    std::vector<const std::string*> fresh;
    for (const auto& ch : channels) {
        auto& v = sh.channels[ch];
        if (std::find(v.begin(), v.end(), &l) != v.end())
            continue;
        v.push_back(&l);
        ++count;
        fresh.push_back(&ch);
    }
    std::lock_guard lock(mutex_);
    for (const auto* ch : fresh) {
        auto& counts = listening_[*ch];
        if (counts.empty()) {
            counts.assign(shards_.size(), 0);
            subscriber_.subscribe(*ch);
        }
        ++counts[index];
    }
}

void live_hub::remove(listener& l, const std::vector<std::string>& channels)
{
    auto& sh = *shards_.at(l.shard() % shards_.size());
    auto index = l.shard() % shards_.size();
    auto reg = sh.registered.find(&l);
    if (reg == sh.registered.end())
        return;
    std::vector<const std::string*> gone;
    for (const auto& ch : channels) {
        auto it = sh.channels.find(ch);
        if (it == sh.channels.end())
            continue;
        auto& v = it->second;
        auto at = std::find(v.begin(), v.end(), &l);
        if (at == v.end())
            continue;
        *at = v.back();
        v.pop_back();
        if (v.empty())
            sh.channels.erase(it);
        --reg->second;
        gone.push_back(&ch);
    }
    if (reg->second <= 0) {
        sh.registered.erase(reg);
        listeners_.fetch_sub(1);
    }
    std::lock_guard lock(mutex_);
    for (const auto* ch : gone) {
        auto it = listening_.find(*ch);
        if (it == listening_.end())
            continue;
        --it->second[index];
        if (std::all_of(it->second.begin(), it->second.end(), [](std::uint32_t n) { return n == 0; })) {
            listening_.erase(it);
            subscriber_.unsubscribe(*ch);
        }
    }
}

// Posts `m` once to each shard with listeners on its channel; each shard hands it to them there.
void live_hub::deliver(const std::shared_ptr<const message>& m)
{
    std::vector<shard*> targets;
    {
        std::lock_guard lock(mutex_);
        auto it = listening_.find(m->channel);
        if (it == listening_.end())
            return;
        for (std::size_t i = 0; i < it->second.size(); ++i)
            if (it->second[i] > 0)
                targets.push_back(shards_[i].get());
    }
    posts_.inc(targets.size());
    for (auto* sh : targets)
        net::post(sh->ex, [sh, m] {
            auto it = sh->channels.find(m->channel);
            if (it == sh->channels.end())
                return;
            for (auto* l : it->second)
                l->deliver(m);
        });
}

void live_hub::release_locked(std::int64_t through, std::vector<std::shared_ptr<const message>>& out)
{
    auto end = held_.upper_bound(through);
    for (auto it = held_.begin(); it != end; ++it)
        out.push_back(std::move(it->second));
    held_.erase(held_.begin(), end);
    held_count_.store(held_.size());
    released_ = std::max(released_, through);
}

void live_hub::resync_all(const char* why)
{
    common::log::info("live.resync", {{"why", why}});
    resyncs_.inc();
    std::vector<shard*> targets;
    {
        std::lock_guard lock(mutex_);
        for (auto& sh : shards_)
            if (sh->ex)
                targets.push_back(sh.get());
    }
    for (auto* sh : targets)
        net::post(sh->ex, [sh] {
            for (auto& [l, count] : sh->registered)
                l->resync();
        });
}

net::awaitable<void> live_hub::run()
{
    subscriber_.start();
    net::co_spawn(ex_, watch(), net::detached);
    std::vector<std::shared_ptr<const message>> ready;
    while (!stopped_.load()) {
        common::redis::message m;
        try {
            m = co_await subscriber_.receive();
        } catch (const common::redis::error&) {
            co_return; // stopped
        }
        if (m.kind != common::redis::message_kind::message) {
            resync_all(m.kind == common::redis::message_kind::reconnected ? "redis reconnected"
                                                                          : "subscription queue overflowed");
            continue;
        }
        ready.clear();
        if (m.channel == common::mode::published_channel()) {
            if (auto through = common::mode::parse_published(m.payload)) {
                std::lock_guard lock(mutex_);
                release_locked(*through, ready);
            }
        } else {
            auto shared = std::make_shared<message>();
            shared->received = clock::now();
            shared->channel = std::move(m.channel);
            shared->payload = std::move(m.payload);
            classify(*shared);
            if (shared->kind == message::kind_t::event || shared->kind == message::kind_t::notification)
                shared->frame = common::web::text_frame(shared->payload);
            if (shared->kind != message::kind_t::event) {
                ready.push_back(std::move(shared));
            } else {
                std::lock_guard lock(mutex_);
                // Below what was handed over: a repeat, or an event the store already gives.
                if (shared->seq > released_) {
                    held_.emplace(shared->seq, std::move(shared));
                    held_count_.store(held_.size());
                    if (held_.size() > held_limit)
                        give_up_locked("too many events waiting for the published watermark");
                }
            }
        }
        for (const auto& r : ready)
            deliver(r);
        bool resync = false;
        {
            std::lock_guard lock(mutex_);
            std::swap(resync, resync_due_);
        }
        if (resync)
            resync_all("events waited too long for the published watermark");
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
        bool resync = false;
        {
            std::lock_guard lock(mutex_);
            if (!held_.empty() && clock::now() - held_.begin()->second->received >= hold_limit_)
                give_up_locked("events waited too long for the published watermark");
            std::swap(resync, resync_due_);
        }
        if (resync)
            resync_all("events waited too long for the published watermark");
    }
}

void live_hub::give_up_locked(const char* why)
{
    late_.inc();
    common::log::warn("live.watermark_late",
                      {{"why", why}, {"held", held_.size()}, {"oldest_seq", held_.begin()->first}});
    released_ = std::max(released_, held_.rbegin()->first);
    held_.clear();
    held_count_.store(0);
    resync_due_ = true;
}

void live_hub::stop()
{
    stopped_.store(true);
    subscriber_.stop();
}

} // namespace gateway
