#include "common/db/pg_pool.hpp"

#include "common/log.hpp"

#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include <fmt/format.h>

#include <sys/socket.h>

#include <condition_variable>
#include <map>
#include <stop_token>
#include <thread>

namespace common::db {

namespace {

std::int64_t now_ticks()
{
    return std::chrono::steady_clock::now().time_since_epoch().count();
}

// Adds libpq connection parameters to a URI unless the operator already set them.
std::string with_params(const pool_options& o)
{
    std::string url = o.url;
    auto add = [&](const std::string& key, const std::string& value) {
        if (url.find(key + "=") != std::string::npos)
            return;
        url += (url.find('?') == std::string::npos ? '?' : '&');
        url += key + "=" + value;
    };
    add("connect_timeout", std::to_string(o.connect_timeout.count()));
    add("application_name", o.application_name);
    // Keepalives notice a peer that vanished without closing the connection.
    add("keepalives", "1");
    add("keepalives_idle", "10");
    add("keepalives_interval", "5");
    add("keepalives_count", "3");
    return url;
}

} // namespace

/**
 * One thread that cuts the connection of a job whose server has not answered by its deadline. libpq
 * blocks in recv() for as long as a hung (stopped, frozen, partitioned) server keeps the TCP connection
 * open; shutting the socket down wakes it with an error, so the job fails and its caller gets a 503
 * instead of waiting for ever.
 */
class pg_pool::watchdog
{
public:
    explicit watchdog(std::chrono::milliseconds limit)
        : limit_(limit)
        , thread_([this](const std::stop_token& stop) { loop(stop); })
    {
    }

    /** Watches socket `fd` from now until `unwatch`. */
    std::uint64_t watch(int fd)
    {
        std::lock_guard lock(mutex_);
        auto id = ++next_;
        entries_.emplace(id, entry{fd, std::chrono::steady_clock::now() + limit_, false});
        return id;
    }

    /** Stops watching; true when the connection was cut meanwhile (it must not be used again). */
    bool unwatch(std::uint64_t id)
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(id);
        if (it == entries_.end())
            return false;
        bool cut = it->second.cut;
        entries_.erase(it);
        return cut;
    }

private:
    struct entry
    {
        int fd;
        std::chrono::steady_clock::time_point deadline;
        bool cut;
    };

    void loop(const std::stop_token& stop)
    {
        std::unique_lock lock(mutex_);
        while (!stop.stop_requested()) {
            cv_.wait_for(lock, stop, std::chrono::milliseconds(100), [] { return false; });
            auto now = std::chrono::steady_clock::now();
            for (auto& [id, e] : entries_) {
                if (e.cut || now < e.deadline)
                    continue;
                // Under the lock: the connection (and so the descriptor) outlives its entry.
                ::shutdown(e.fd, SHUT_RDWR);
                e.cut = true;
                log::warn("db.no_answer", {{"after_ms", static_cast<std::int64_t>(limit_.count())}});
            }
        }
    }

    std::chrono::milliseconds limit_;
    std::mutex mutex_;
    std::condition_variable_any cv_;
    std::map<std::uint64_t, entry> entries_;
    std::uint64_t next_ = 0;
    std::jthread thread_; // last: it uses the members above
};

pg_pool::pg_pool(pool_options opts)
    : opts_(std::move(opts))
    , conninfo_(with_params(opts_))
    , watchdog_(std::make_unique<watchdog>(opts_.statement_timeout + opts_.stall_grace))
    , workers_(opts_.size)
{
    if (opts_.metrics != nullptr) {
        in_use_gauge_ = &opts_.metrics->gauge_for("mb_db_pool_in_use", "Database pool connections lent to a job");
        wait_seconds_ = &opts_.metrics->histogram_for(
            "mb_db_pool_wait_seconds", "Time a database job waited for a pool connection before it ran");
    }
}

pg_pool::~pg_pool()
{
    workers_.join();
}

void pg_pool::fail_fast_for(std::chrono::milliseconds d) noexcept
{
    auto ticks = std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count();
    down_until_.store(now_ticks() + ticks, std::memory_order_relaxed);
}

std::unique_ptr<pqxx::connection> pg_pool::acquire(std::chrono::steady_clock::time_point queued)
{
    if (std::chrono::steady_clock::now() - queued > opts_.queue_timeout)
        throw unavailable("database busy: no connection became free in time");
    {
        std::lock_guard lock(mutex_);
        while (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            if (c->is_open())
                return c;
        }
    }
    if (now_ticks() < down_until_.load(std::memory_order_relaxed))
        throw unavailable("database unavailable");
    try {
        return connect();
    } catch (const pqxx::broken_connection& e) {
        // Fail fast for a moment rather than paying a connect attempt on every request.
        fail_fast_for(std::chrono::milliseconds(500));
        log::warn("db.connect", {{"error", std::string(e.what()).substr(0, 200)}});
        throw unavailable("database unavailable");
    }
}

std::unique_ptr<pqxx::connection> pg_pool::connect()
{
    // libpq's connect_timeout bounds the connection itself; the set-up after it is watched.
    auto c = std::make_unique<pqxx::connection>(conninfo_);
    auto id = watchdog_->watch(c->sock());
    try {
        {
            pqxx::nontransaction setup(*c);
            setup.exec(fmt::format("SET statement_timeout = {}", opts_.statement_timeout.count()));
        }
        for (const auto& [name, sql] : opts_.statements)
            c->prepare(name, sql);
    } catch (...) {
        watchdog_->unwatch(id);
        throw;
    }
    if (watchdog_->unwatch(id))
        throw pqxx::broken_connection("the database did not answer in time");
    return c;
}

void pg_pool::release(std::unique_ptr<pqxx::connection> c)
{
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(c));
}

pg_pool::lease::lease(pg_pool& pool, std::unique_ptr<pqxx::connection> c)
    : pool_(pool)
    , c_(std::move(c))
    , watch_(pool_.watchdog_->watch(c_->sock()))
{
    pool_.in_use_.fetch_add(1, std::memory_order_relaxed);
    if (pool_.in_use_gauge_ != nullptr)
        pool_.in_use_gauge_->add(1);
}

pg_pool::lease::~lease()
{
    pool_.in_use_.fetch_sub(1, std::memory_order_relaxed);
    if (pool_.in_use_gauge_ != nullptr)
        pool_.in_use_gauge_->add(-1);
    bool cut = pool_.watchdog_->unwatch(watch_);
    if (c_ && !cut && c_->is_open())
        pool_.release(std::move(c_));
}

void pg_pool::lease::broken(const std::exception& e)
{
    // Unwatched before it is closed, so that the watchdog never touches a reused descriptor.
    bool cut = pool_.watchdog_->unwatch(watch_);
    watch_ = 0;
    c_.reset(); // closed, not returned
    if (cut) {
        // A hung server: the next jobs fail at once for a moment instead of each waiting on it.
        pool_.fail_fast_for(std::chrono::seconds(1));
        throw unavailable("database did not answer in time");
    }
    log::warn("db.connection_lost", {{"error", std::string(e.what()).substr(0, 200)}});
    throw unavailable("database connection lost");
}

net::awaitable<bool> pg_pool::ping()
{
    try {
        co_return co_await run([](pqxx::connection& c) {
            pqxx::nontransaction tx(c);
            tx.exec("SELECT 1");
            return true;
        });
    } catch (const std::exception&) {
    }
    co_return false;
}

} // namespace common::db
