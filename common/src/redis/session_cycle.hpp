#pragma once

// Private to common_redis, included by session.hpp only (at its end): session's connect / handshake /
// reconnect cycle, that is resolving, connecting, AUTH/SELECT/PING, timeouts, losing a context, and
// backing off before the next attempt. All of it runs on the session's strand.
//
// Inline definitions in a header rather than a session.cpp: connection.cpp and subscriber.cpp compile
// them as before, and no third translation unit parses the Asio and hiredis headers again.

namespace common::redis::detail {

inline void session::connect()
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

inline void session::on_resolved(
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

inline void session::open(const std::string& ip)
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

inline void* session::step_ptr(handshake_step s) noexcept
{
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(s));
}

inline void session::on_handshake(redisAsyncContext* ac, void* r, void* privdata)
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

inline void session::handshake_done()
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

inline void session::on_connect_timeout(std::uint64_t gen)
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
inline void session::fail_attempt(const std::string& why)
{
    ++gen_;
    connect_timer_.cancel();
    after_close(why, false);
}

/** From the cleanup hook: hiredis is freeing the context (error, drop(), stop()). */
inline void session::context_freed(asio_adapter& adapter, const redisAsyncContext* ac)
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

inline void session::after_close(const std::string& why, bool was_ready)
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
} // namespace common::redis::detail
