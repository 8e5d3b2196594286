#pragma once

// Private to common_redis: one hiredis 0.14 async context at a time, driven by Boost.Asio, with the
// connect / handshake / reconnect cycle that `connection` and `subscriber` share.
//
// Header-only (inline), so that no third translation unit parses Asio and hiredis again: the class
// and its small members are here, its connect / handshake / reconnect cycle in session_cycle.hpp.

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/net/aliases.hpp"
#include "common/redis/connection.hpp"
#include "common/util/backoff.hpp"
#include "redis/asio_adapter.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace common::redis::detail {

using clock = std::chrono::steady_clock;

/** redisAsyncCommandArgv over a vector of binary-safe arguments. */
inline int send_argv(
    redisAsyncContext* ac, redisCallbackFn* fn, void* privdata, const std::vector<std::string>& args
)
{
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    return redisAsyncCommandArgv(
        ac, fn, privdata, static_cast<int>(args.size()), argv.data(), lens.data()
    );
}

/**
 * Base of connection_impl and subscriber_impl. Everything except start/stop/ready/last_error runs
 * on `strand_`. Derived destructors must call abandon().
 */
class session : public std::enable_shared_from_this<session>, private context_observer
{
public:
    session(net::any_io_executor ex, config cfg, std::string tag)
        : strand_(net::make_strand(std::move(ex)))
        , cfg_(std::move(cfg))
        , tag_(std::move(tag))
        , resolver_(strand_)
        , connect_timer_(strand_)
        , retry_timer_(strand_)
    {}
    virtual ~session() = default;
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    // Thread-safe.
    void start()
    {
        net::post(strand_, [self = shared_from_this()] { self->do_start(); });
    }
    void stop()
    {
        net::post(strand_, [self = shared_from_this()] { self->do_stop(); });
    }
    bool ready() const noexcept { return ready_flag_.load(std::memory_order_acquire); }
    std::string last_error() const
    {
        std::lock_guard lock(error_mutex_);
        return last_error_;
    }
    const config& settings() const noexcept { return cfg_; }
    /** Connections made again after one was up (not the first connect). */
    std::uint64_t reconnects() const noexcept { return reconnects_.load(std::memory_order_relaxed); }
    /** Also counts them on `c` (which must outlive the session's use); call before start(). */
    void count_reconnects_on(metrics::counter& c) noexcept { reconnect_counter_.store(&c, std::memory_order_release); }

protected:
    /** On the strand, when AUTH/SELECT/PING of a new connection have all succeeded. */
    virtual void on_ready() = 0;
    /** On the strand, once, when stop() runs. */
    virtual void on_stop() {}

    /** The hiredis context when ready, else nullptr. */
    redisAsyncContext* context() const noexcept
    {
        return state_ == state::ready && link_ ? link_->context() : nullptr;
    }

    static session* owner_of(const redisAsyncContext* ac) noexcept
    {
        return static_cast<session*>(ac->data);
    }

    /** Why a context went away, for replies hiredis failed with a null reply. */
    std::string lost_reason(const redisAsyncContext* ac) const
    {
        if (!closing_reason_.empty())
            return closing_reason_;
        if (ac->err != 0 && ac->errstr != nullptr)
            return ac->errstr;
        return "connection closed";
    }

    std::string unavailable_message() const
    {
        if (state_ == state::stopped)
            return "redis " + describe(cfg_) + ": client stopped";
        auto why = last_error();
        return "redis " + describe(cfg_) +
               " unavailable: " + (why.empty() ? "not connected yet" : why);
    }

    /** Closes the current connection (its pending replies fail) and reconnects. */
    void drop(std::string reason)
    {
        if (state_ != state::ready || !link_ || link_->context() == nullptr)
            return;
        closing_reason_ = std::move(reason);
        auto lk = link_; // redisAsyncFree ends in context_freed(), which resets link_
        redisAsyncFree(lk->context());
    }

    /**
     * For derived destructors (which may run off the strand, during io_context shutdown): frees
     * the context without posting anything; hiredis's callbacks see `ac->data == nullptr`.
     */
    void abandon() noexcept
    {
        if (auto lk = link_; lk && lk->context() != nullptr) {
            lk->forget_observer();
            lk->context()->data = nullptr;
            redisAsyncFree(lk->context());
        }
        link_.reset();
    }

    strand_type strand_;
    const config cfg_;
    const std::string tag_;

private:
    enum class state
    {
        idle,
        resolving,
        connecting,
        ready,
        backoff,
        stopped
    };
    enum handshake_step : std::uintptr_t
    {
        step_auth = 1,
        step_select = 2,
        step_ping = 3
    };

    void do_start()
    {
        if (state_ == state::idle)
            connect();
    }

    void do_stop()
    {
        if (state_ == state::stopped)
            return;
        state_ = state::stopped;
        ready_flag_.store(false, std::memory_order_release);
        ++gen_;
        connect_timer_.cancel();
        retry_timer_.cancel();
        resolver_.cancel();
        if (auto lk = link_; lk && lk->context() != nullptr) {
            closing_reason_ = "client stopped";
            redisAsyncFree(lk->context()); // pending replies fail now, with a null reply
        }
        link_.reset();
        on_stop();
    }

    void connect();
    void on_resolved(
        std::uint64_t gen,
        const boost::system::error_code& ec,
        const net::ip::tcp::resolver::results_type& results
    );
    void open(const std::string& ip);
    static void* step_ptr(handshake_step s) noexcept;
    static void on_handshake(redisAsyncContext* ac, void* r, void* privdata);
    void handshake_done();
    void on_connect_timeout(std::uint64_t gen);
    /** An attempt failed before a context existed. */
    void fail_attempt(const std::string& why);
    /** From the cleanup hook: hiredis is freeing the context (error, drop(), stop()). */
    void context_freed(asio_adapter& adapter, const redisAsyncContext* ac) override;
    void after_close(const std::string& why, bool was_ready);

    net::ip::tcp::resolver resolver_;
    net::steady_timer connect_timer_; // bounds resolve + connect + handshake
    net::steady_timer retry_timer_;
    std::shared_ptr<asio_adapter> link_; // the current context, if any
    state state_ = state::idle;
    // Bumped per attempt and per loss, so stale timers and resolves do nothing.
    std::uint64_t gen_ = 0;
    std::string closing_reason_; // set when we free the context ourselves
    bool outage_ = false;
    clock::time_point outage_since_{};
    // Reconnect delays: 100 ms doubling up to 5 s, with equal jitter so many clients restarting
    // together spread out (documented on common::redis::connection).
    common::backoff reconnect_{
        std::chrono::milliseconds(100), std::chrono::milliseconds(5000), common::jitter::equal
    };
    std::atomic<bool> ready_flag_{false};
    bool ever_ready_ = false; // a connection was up once: the next ones are reconnects
    std::atomic<std::uint64_t> reconnects_{0};
    std::atomic<metrics::counter*> reconnect_counter_{nullptr};
    mutable std::mutex error_mutex_;
    std::string last_error_;
};

} // namespace common::redis::detail

#include "redis/session_cycle.hpp"
