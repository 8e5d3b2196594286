#include "common/redis/subscriber.hpp"

#include "redis/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <random>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace common::redis {
namespace detail {

class subscriber_impl final : public session
{
public:
    using queue_type =
        net::experimental::concurrent_channel<void(boost::system::error_code, message)>;

    subscriber_impl(net::any_io_executor ex, config cfg, std::size_t capacity)
        : session(ex, std::move(cfg), "redis.sub")
        , queue_(ex, capacity)
        , capacity_(capacity)
        , heartbeat_(strand_)
        , heartbeat_channel_(make_heartbeat_channel())
    {}
    ~subscriber_impl() override { abandon(); }
    subscriber_impl(const subscriber_impl&) = delete;
    subscriber_impl& operator=(const subscriber_impl&) = delete;

    // Any thread.
    void subscribe(std::string channel)
    {
        net::post(strand_, [self = shared_self(), ch = std::move(channel)] {
            self->do_subscribe(ch);
        });
    }
    void unsubscribe(std::string channel)
    {
        net::post(strand_, [self = shared_self(), ch = std::move(channel)] {
            self->do_unsubscribe(ch);
        });
    }

    net::awaitable<message> receive()
    {
        if (gap_.exchange(false))
            co_return message{message_kind::overflowed, {}, {}};
        auto [ec, m] = co_await queue_.async_receive(net::as_tuple(net::use_awaitable));
        if (ec)
            throw error(error_kind::unavailable, "redis subscriber " + describe(cfg_) + " stopped");
        co_return std::move(m);
    }

    std::uint64_t dropped() const noexcept { return dropped_.load(); }

    /** See subscriber::sync(). */
    net::awaitable<bool> sync()
    {
        auto w = std::make_shared<sync_waiter>(co_await net::this_coro::executor);
        w->timer.expires_after(cfg_.command_timeout);
        net::post(strand_, [self = shared_self(), w] {
            auto* ac = self->context();
            if (ac == nullptr || self->stopped_) {
                finish(w, false);
                return;
            }
            // Answers come in order: once this one is back, every SUBSCRIBE sent before it is in effect.
            self->heartbeat_answers_.push_back(w);
            send_argv(ac, &on_push, nullptr, {"SUBSCRIBE", self->heartbeat_channel_});
        });
        while (!w->finished.load()) {
            auto [ec] = co_await w->timer.async_wait(net::as_tuple(net::use_awaitable));
            if (!ec)
                break; // the deadline passed
        }
        co_return w->finished.load() && w->ok.load();
    }

private:
    std::shared_ptr<subscriber_impl> shared_self()
    {
        return std::static_pointer_cast<subscriber_impl>(shared_from_this());
    }

    struct sync_waiter
    {
        explicit sync_waiter(net::any_io_executor ex)
            : timer(std::move(ex))
        {
        }
        net::steady_timer timer; // on the waiting coroutine's executor
        std::atomic<bool> finished{false};
        std::atomic<bool> ok{false};
    };

    static void finish(const std::shared_ptr<sync_waiter>& w, bool ok)
    {
        w->ok.store(ok);
        w->finished.store(true);
        net::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }

    // A new connection or the end: answers still awaited on the old one will never come.
    void fail_sync_waiters()
    {
        for (auto& w : heartbeat_answers_)
            if (w)
                finish(w, false);
        heartbeat_answers_.clear();
    }

    static std::string make_heartbeat_channel()
    {
        std::random_device rd;
        std::uint64_t n = (std::uint64_t{rd()} << 32) | rd();
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(n));
        return std::string("mb:heartbeat:") + hex;
    }

    // hiredis 0.14 drops the answer to PING in subscribed mode, but SUBSCRIBE is answered every time,
    // even for a channel already subscribed: re-subscribing to a channel of our own is the heartbeat.
    // A server that leaves it unanswered for command_timeout (frozen, or cut off without the TCP
    // connection noticing) gets the connection dropped, so connected() turns false and the connection
    // is made again, with a `reconnected` marker once it is back.
    void heartbeat()
    {
        if (stopped_)
            return;
        auto* ac = context();
        if (ac != nullptr && heartbeat_outstanding_ && clock::now() - heartbeat_sent_ >= cfg_.command_timeout) {
            heartbeat_outstanding_ = false;
            log::warn(tag_ + ".no_answer", {{"target", describe(cfg_)},
                                            {"after_ms", static_cast<std::int64_t>(cfg_.command_timeout.count())}});
            drop("no answer to the heartbeat within " + std::to_string(cfg_.command_timeout.count()) + " ms");
        } else if (ac != nullptr && !heartbeat_outstanding_) {
            heartbeat_outstanding_ = true;
            heartbeat_sent_ = clock::now();
            heartbeat_answers_.push_back(nullptr);
            send_argv(ac, &on_push, nullptr, {"SUBSCRIBE", heartbeat_channel_});
        }
        heartbeat_.expires_after(std::max(cfg_.command_timeout / 2, std::chrono::milliseconds(10)));
        heartbeat_.async_wait([self = shared_self()](const boost::system::error_code& ec) {
            if (!ec)
                self->heartbeat();
        });
    }

    void on_ready() override
    {
        heartbeat_outstanding_ = false;
        fail_sync_waiters();
        if (!heartbeat_started_) {
            heartbeat_started_ = true;
            heartbeat();
        }
        // Confirmations come back in order, so the first channels_.size() "subscribe" replies are
        // this batch; the marker waits for them so a consumer's catch-up cannot miss a message.
        confirmations_pending_ = channels_.size();
        marker_pending_ = ever_ready_;
        ever_ready_ = true;
        if (channels_.empty()) {
            release_marker();
            return;
        }
        std::vector<std::string> args{"SUBSCRIBE"};
        args.insert(args.end(), channels_.begin(), channels_.end());
        send_argv(context(), &on_push, nullptr, args);
    }

    void on_stop() override
    {
        stopped_ = true;
        heartbeat_.cancel();
        fail_sync_waiters();
        queue_.close();
    }

    void do_subscribe(const std::string& ch)
    {
        if (!channels_.insert(ch).second)
            return;
        if (auto* ac = context())
            send_argv(ac, &on_push, nullptr, {"SUBSCRIBE", ch});
    }

    void do_unsubscribe(const std::string& ch)
    {
        if (channels_.erase(ch) == 0)
            return;
        // hiredis refuses UNSUBSCRIBE outside subscribed mode; nothing to undo then.
        if (auto* ac = context())
            send_argv(ac, nullptr, nullptr, {"UNSUBSCRIBE", ch});
    }

    static void on_push(redisAsyncContext* ac, void* r, void* /*privdata*/)
    {
        auto* owner = owner_of(ac);
        if (owner == nullptr || r == nullptr)
            return; // context freed: the session reconnects and re-subscribes
        static_cast<subscriber_impl*>(owner)->on_push(static_cast<const redisReply*>(r));
    }

    void on_push(const redisReply* r)
    {
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
            r->element[0]->type != REDIS_REPLY_STRING)
            return;
        const std::string_view type(r->element[0]->str, r->element[0]->len);
        if (type == "message") {
            std::string channel(r->element[1]->str, r->element[1]->len);
            // Messages for a channel just unsubscribed may still be in flight.
            if (channels_.count(channel) != 0)
                deliver(message{
                    message_kind::message,
                    std::move(channel),
                    std::string(r->element[2]->str, r->element[2]->len)});
        } else if (type == "subscribe") {
            if (r->element[1]->type == REDIS_REPLY_STRING &&
                std::string_view(r->element[1]->str, r->element[1]->len) == heartbeat_channel_) {
                heartbeat_outstanding_ = false; // any answer shows the server is alive
                if (!heartbeat_answers_.empty()) {
                    if (auto w = heartbeat_answers_.front())
                        finish(w, true);
                    heartbeat_answers_.pop_front();
                }
                return;
            }
            if (confirmations_pending_ > 0 && --confirmations_pending_ == 0)
                release_marker();
        }
    }

    void release_marker()
    {
        if (!marker_pending_)
            return;
        marker_pending_ = false;
        deliver(message{message_kind::reconnected, {}, {}});
    }

    void deliver(message m)
    {
        if (queue_.try_send(boost::system::error_code{}, std::move(m))) {
            overflow_logged_ = false;
            return;
        }
        if (!queue_.is_open())
            return;
        gap_.store(true);
        dropped_.fetch_add(1); // after gap_: whoever sees the count also sees the gap
        if (!overflow_logged_) {
            overflow_logged_ = true;
            log::warn(tag_ + ".overflow", {{"target", describe(cfg_)}, {"capacity", capacity_}});
        }
    }

    queue_type queue_;
    const std::size_t capacity_;
    std::atomic<bool> gap_{false};
    std::atomic<std::uint64_t> dropped_{0};
    // Strand only:
    std::set<std::string> channels_;
    std::size_t confirmations_pending_ = 0;
    bool ever_ready_ = false;
    bool marker_pending_ = false;
    bool overflow_logged_ = false;
    net::steady_timer heartbeat_;
    const std::string heartbeat_channel_;
    bool heartbeat_started_ = false;
    bool heartbeat_outstanding_ = false;
    bool stopped_ = false;
    clock::time_point heartbeat_sent_;
    // One entry per heartbeat SUBSCRIBE in flight, in order: nullptr for the periodic ones.
    std::deque<std::shared_ptr<sync_waiter>> heartbeat_answers_;
};

} // namespace detail

subscriber::subscriber(net::any_io_executor ex, config cfg, std::size_t capacity)
{
    if (capacity == 0)
        throw std::invalid_argument("redis subscriber: capacity must be at least 1");
    impl_ = std::make_shared<detail::subscriber_impl>(std::move(ex), std::move(cfg), capacity);
}

subscriber::~subscriber()
{
    stop();
}

void subscriber::start()
{
    impl_->start();
}

void subscriber::stop()
{
    impl_->stop();
}

void subscriber::subscribe(std::string channel)
{
    impl_->subscribe(std::move(channel));
}

void subscriber::unsubscribe(std::string channel)
{
    impl_->unsubscribe(std::move(channel));
}

net::awaitable<bool> subscriber::sync()
{
    auto impl = impl_;
    co_return co_await impl->sync();
}

net::awaitable<message> subscriber::receive()
{
    auto impl = impl_; // keeps the queue alive while waiting, even if *this goes away
    co_return co_await impl->receive();
}

bool subscriber::connected() const noexcept
{
    return impl_->ready();
}

std::string subscriber::last_error() const
{
    return impl_->last_error();
}

std::uint64_t subscriber::dropped() const noexcept
{
    return impl_->dropped();
}

std::uint64_t subscriber::reconnects() const noexcept { return impl_->reconnects(); }
void subscriber::count_reconnects_on(metrics::counter& c) noexcept { impl_->count_reconnects_on(c); }

} // namespace common::redis
