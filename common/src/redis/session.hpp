#pragma once

// Private to common_redis: one hiredis 0.14 async context at a time, driven by Boost.Asio, with the
// connect / handshake / reconnect cycle that `connection` and `subscriber` share.
//
// Header-only (inline) because the component's source list is fixed; both users include it.

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

    void connect()
    {
        const auto gen = ++gen_;
        closing_reason_.clear();
        connect_timer_.expires_after(cfg_.connect_timeout);
        connect_timer_.async_wait([self = shared_from_this(),
                                   gen](const boost::system::error_code& ec) {
            if (!ec)
                self->on_connect_timeout(gen);
        });
        boost::system::error_code ec;
        auto addr = net::ip::make_address(cfg_.host, ec);
        if (!ec) {
            open(addr.to_string());
            return;
        }
        // hiredis would resolve with a blocking getaddrinfo(); resolve here and hand it an IP.
        state_ = state::resolving;
        resolver_.async_resolve(
            cfg_.host,
            std::to_string(cfg_.port),
            [self = shared_from_this(), gen](
                const boost::system::error_code& rec, net::ip::tcp::resolver::results_type results
            ) { self->on_resolved(gen, rec, results); }
        );
    }

    void on_resolved(
        std::uint64_t gen,
        const boost::system::error_code& ec,
        const net::ip::tcp::resolver::results_type& results
    )
    {
        if (gen != gen_ || state_ != state::resolving)
            return;
        if (ec || results.empty()) {
            fail_attempt("cannot resolve " + cfg_.host + ": " + (ec ? ec.message() : "no address"));
            return;
        }
        // Prefer IPv4: a Redis bound to 127.0.0.1 is not reachable on the ::1 that "localhost" may
        // list first.
        auto it = std::find_if(results.begin(), results.end(), [](const auto& e) {
            return e.endpoint().address().is_v4();
        });
        if (it == results.end())
            it = results.begin();
        open(it->endpoint().address().to_string());
    }

    void open(const std::string& ip)
    {
        state_ = state::connecting;
        redisAsyncContext* ac = redisAsyncConnect(ip.c_str(), cfg_.port);
        if (ac == nullptr) {
            fail_attempt("cannot allocate a hiredis context");
            return;
        }
        if (ac->err != 0) {
            std::string why = ac->errstr;
            redisAsyncFree(ac);
            fail_attempt(why);
            return;
        }
        boost::system::error_code ec;
        auto adapter = asio_adapter::attach(ac, strand_, *this, weak_from_this(), ec);
        if (!adapter) {
            redisAsyncFree(ac);
            fail_attempt("cannot watch the socket: " + ec.message());
            return;
        }
        redisEnableKeepAlive(&ac->c); // notices a silently vanished peer on an idle connection
        ac->data = this;
        link_ = adapter;

        // Queued before connect(2) completes; hiredis flushes them on the first writable event,
        // which is also how it learns that the connection is up (or refused).
        if (!cfg_.password.empty()) {
            std::vector<std::string> auth{"AUTH"};
            if (!cfg_.username.empty())
                auth.push_back(cfg_.username);
            auth.push_back(cfg_.password);
            send_argv(ac, &on_handshake, step_ptr(step_auth), auth);
        }
        if (cfg_.db != 0)
            send_argv(
                ac, &on_handshake, step_ptr(step_select), {"SELECT", std::to_string(cfg_.db)}
            );
        // PING always: an accepted TCP connection proves nothing about a paused or loading server.
        send_argv(ac, &on_handshake, step_ptr(step_ping), {"PING"});
    }

    static void* step_ptr(handshake_step s) noexcept
    {
        return reinterpret_cast<void*>(static_cast<std::uintptr_t>(s));
    }

    static void on_handshake(redisAsyncContext* ac, void* r, void* privdata)
    {
        auto* self = owner_of(ac);
        if (self == nullptr || r == nullptr)
            return; // the context is going away; the cleanup hook reports why
        const auto* rep = static_cast<const redisReply*>(r);
        const auto step = reinterpret_cast<std::uintptr_t>(privdata);
        if (rep->type == REDIS_REPLY_ERROR) {
            const char* name = step == step_auth ? "AUTH" : step == step_select ? "SELECT" : "PING";
            self->closing_reason_ =
                std::string(name) + " failed: " + std::string(rep->str, rep->len);
            redisAsyncFree(ac); // deferred by hiredis until this callback returns
            return;
        }
        if (step == step_ping)
            self->handshake_done();
    }

    void handshake_done()
    {
        if (state_ != state::connecting)
            return;
        state_ = state::ready;
        connect_timer_.cancel();
        ready_flag_.store(true, std::memory_order_release);
        if (ever_ready_) {
            reconnects_.fetch_add(1, std::memory_order_relaxed);
            if (auto* c = reconnect_counter_.load(std::memory_order_acquire))
                c->inc();
        }
        ever_ready_ = true;
        if (outage_) {
            const auto down_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - outage_since_);
            log::info(
                tag_ + ".up",
                {{"target", describe(cfg_)},
                 {"downtime_ms", static_cast<std::int64_t>(down_ms.count())},
                 {"failed_attempts", reconnect_.failures()}}
            );
        } else {
            log::info(tag_ + ".connected", {{"target", describe(cfg_)}, {"db", cfg_.db}});
        }
        outage_ = false;
        reconnect_.reset();
        on_ready();
    }

    void on_connect_timeout(std::uint64_t gen)
    {
        if (gen != gen_)
            return;
        const auto why =
            "timed out after " + std::to_string(cfg_.connect_timeout.count()) + " ms connecting";
        if (state_ == state::resolving) {
            fail_attempt(why);
            resolver_.cancel();
        } else if (state_ == state::connecting && link_ && link_->context() != nullptr) {
            closing_reason_ = why;
            auto lk = link_;
            redisAsyncFree(lk->context());
        }
    }

    /** An attempt failed before a context existed. */
    void fail_attempt(const std::string& why)
    {
        ++gen_;
        connect_timer_.cancel();
        after_close(why, false);
    }

    /** From the cleanup hook: hiredis is freeing the context (error, drop(), stop()). */
    void context_freed(asio_adapter& adapter, const redisAsyncContext* ac) override
    {
        const std::string why = lost_reason(ac);
        const bool was_ready = state_ == state::ready;
        if (link_.get() == &adapter)
            link_.reset();
        ready_flag_.store(false, std::memory_order_release);
        ++gen_;
        connect_timer_.cancel();
        if (state_ != state::stopped)
            state_ = state::backoff;
        // Leave hiredis's call stack before reconnecting.
        net::post(strand_, [self = shared_from_this(), why, was_ready] {
            self->after_close(why, was_ready);
        });
    }

    void after_close(const std::string& why, bool was_ready)
    {
        if (state_ == state::stopped)
            return;
        {
            std::lock_guard lock(error_mutex_);
            last_error_ = why;
        }
        if (!outage_) {
            // Log once per outage, not per attempt; handshake_done() logs the recovery.
            outage_ = true;
            outage_since_ = clock::now();
            log::warn(
                tag_ + ".down",
                {{"target", describe(cfg_)}, {"reason", why}, {"was_connected", was_ready}}
            );
        }
        state_ = state::backoff;
        const auto delay = reconnect_.next();
        retry_timer_.expires_after(delay);
        retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec && self->state_ == state::backoff)
                self->connect();
        });
    }

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
