#include "live/hub.hpp"

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/mode/event.hpp"

#include <boost/json/parse.hpp>

namespace gateway {

namespace {

using message = live_hub::listener::message;

// What a message on a home channel is: webhook-ingest's {"type":"event","seq":N,...}, or the gateway's
// own {"type":"member.removed","userId":M} and {"type":"home.deleted"}.
void classify(message& m)
{
    m.kind = message::kind_t::other;
    boost::system::error_code ec;
    auto v = boost::json::parse(m.payload, ec);
    if (ec || !v.is_object())
        return;
    const auto& o = v.as_object();
    const auto* type = o.if_contains("type");
    if (type == nullptr || !type->is_string())
        return;
    if (type->get_string() == "event") {
        const auto* seq = o.if_contains("seq");
        if (seq != nullptr && seq->is_int64() && seq->get_int64() > 0) {
            m.kind = message::kind_t::event;
            m.seq = seq->get_int64();
        }
    } else if (type->get_string() == "member.removed") {
        const auto* user = o.if_contains("userId");
        if (user != nullptr && user->is_int64()) {
            m.kind = message::kind_t::member_removed;
            m.mode_user = user->get_int64();
        }
    } else if (type->get_string() == "home.deleted") {
        m.kind = message::kind_t::home_deleted;
    }
}

} // namespace

live_hub::live_hub(net::any_io_executor ex, common::redis::config cfg, common::metrics::registry& metrics)
    : subscriber_(std::move(ex), std::move(cfg), 16384)
{
    metrics.add_callback_gauge("mb_live_streams", "Open live event streams on this instance",
                               [this] { return static_cast<double>(listeners_.load()); });
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

net::awaitable<void> live_hub::run()
{
    subscriber_.start();
    while (!stopped_.load()) {
        common::redis::message m;
        try {
            m = co_await subscriber_.receive();
        } catch (const common::redis::error&) {
            co_return; // stopped
        }
        if (m.kind != common::redis::message_kind::message) {
            common::log::info("live.resync", {{"why", m.kind == common::redis::message_kind::reconnected
                                                           ? "redis reconnected"
                                                           : "subscription queue overflowed"}});
            std::lock_guard lock(mutex_);
            for (auto& [l, count] : registered_)
                l->resync();
            continue;
        }
        auto shared = std::make_shared<listener::message>();
        shared->received = std::chrono::steady_clock::now();
        shared->channel = std::move(m.channel);
        shared->payload = std::move(m.payload);
        if (auto home = common::mode::home_of_channel(shared->channel)) {
            shared->home = *home;
            classify(*shared);
        }
        std::lock_guard lock(mutex_);
        auto it = channels_.find(shared->channel);
        if (it == channels_.end())
            continue;
        for (auto* l : it->second)
            l->deliver(shared);
    }
}

void live_hub::stop()
{
    stopped_.store(true);
    subscriber_.stop();
}

} // namespace gateway
