#pragma once

#include "common/errors.hpp"
#include "common/metrics.hpp"
#include "common/util/blocking_pool.hpp"

#include <pqxx/connection>
#include <pqxx/except>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace common::db {

/** PostgreSQL cannot be reached, the connection broke mid-query, or a statement ran past the timeout: a
    503 `STORE_UNAVAILABLE`. */
class unavailable : public common::unavailable_error
{
public:
    explicit unavailable(const std::string& what)
        : unavailable_error("STORE_UNAVAILABLE", what)
    {
    }
};

struct pool_options
{
    std::string url;
    std::size_t size = 4;
    std::chrono::seconds connect_timeout{3};
    /** PostgreSQL cancels a statement running longer. A job (one transaction) whose server stays silent
        for this plus `stall_grace` is taken for a hung server: its connection is cut, the job fails
        with `unavailable`. */
    std::chrono::milliseconds statement_timeout{5'000};
    std::chrono::milliseconds stall_grace{1'000};
    /** A job that waited this long for a free connection fails with `unavailable` without running. */
    std::chrono::milliseconds queue_timeout{5'000};
    /** Prepared on every connection: {name, sql}. Queries with inputs go through these only. */
    std::vector<std::pair<std::string, std::string>> statements;
    std::string application_name = "modebridge";
    /** When set, the pool counts its connections in use (`mb_db_pool_in_use`) and how long jobs waited
        for one (`mb_db_pool_wait_seconds`) there; it must outlive the pool. */
    metrics::registry* metrics = nullptr;
};

/**
 * N libpqxx connections used by N worker threads, so queries never block an I/O thread (libpqxx is
 * blocking and a connection belongs to one thread at a time). `co_await pool.run(f)` calls
 * `f(pqxx::connection&)` on a worker with a connection of its own and resumes the caller on its own
 * executor. Connections are opened lazily and reopened after a failure; while the database is down,
 * callers get `unavailable` quickly instead of waiting on every attempt.
 *
 * Thread-safety: `run` may be called concurrently from any thread. One `pqxx::work` per job is the
 * rule: do not keep anything derived from the connection after `f` returns.
 */
class pg_pool
{
public:
    explicit pg_pool(pool_options opts);
    ~pg_pool();
    pg_pool(const pg_pool&) = delete;
    pg_pool& operator=(const pg_pool&) = delete;

    template <class F>
    net::awaitable<std::invoke_result_t<F&, pqxx::connection&>> run(F f)
    {
        auto queued = std::chrono::steady_clock::now();
        auto job = [this, &f, queued]() { return with_connection(f, queued); };
        co_return co_await workers_.run(job);
    }

    /** `SELECT 1` on a pooled connection: true when the database answers. */
    net::awaitable<bool> ping();

    std::size_t size() const noexcept { return opts_.size; }
    std::size_t waiting() const noexcept { return workers_.waiting(); }
    /** Connections lent to a job right now. */
    std::int64_t in_use() const noexcept { return in_use_.load(std::memory_order_relaxed); }
    /** Waits for queued jobs and stops the workers. */
    void join() { workers_.join(); }

private:
    class watchdog;

    /** A connection in use by one job, watched for a server that stops answering. On destruction the
        connection goes back to the pool, unless it broke or was cut. */
    class lease
    {
    public:
        lease(pg_pool& pool, std::unique_ptr<pqxx::connection> c);
        ~lease();
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;

        pqxx::connection& connection() noexcept { return *c_; }
        /** The connection broke under the job: close it, and throw `unavailable`. */
        [[noreturn]] void broken(const std::exception& e);

    private:
        pg_pool& pool_;
        std::unique_ptr<pqxx::connection> c_;
        std::uint64_t watch_;
    };

    template <class F>
    std::invoke_result_t<F&, pqxx::connection&> with_connection(F& f, std::chrono::steady_clock::time_point queued);

    std::unique_ptr<pqxx::connection> acquire(std::chrono::steady_clock::time_point queued);
    std::unique_ptr<pqxx::connection> connect();
    void release(std::unique_ptr<pqxx::connection> c);
    void fail_fast_for(std::chrono::milliseconds d) noexcept;

    pool_options opts_;
    std::string conninfo_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
    std::atomic<std::int64_t> down_until_{0}; // steady_clock ticks: fail fast until then
    std::unique_ptr<watchdog> watchdog_;
    std::atomic<std::int64_t> in_use_{0};
    metrics::gauge* in_use_gauge_ = nullptr;     // from opts_.metrics, if any
    metrics::histogram* wait_seconds_ = nullptr; // likewise
    blocking_pool workers_;
};

template <class F>
std::invoke_result_t<F&, pqxx::connection&> pg_pool::with_connection(F& f, std::chrono::steady_clock::time_point queued)
{
    if (wait_seconds_ != nullptr) // the wait for a worker, and so for one of the N connections
        wait_seconds_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - queued).count());
    lease l(*this, acquire(queued));
    try {
        // Query errors leave the connection usable once their transaction is gone: the lease returns it.
        return f(l.connection());
    } catch (const pqxx::sql_error& e) {
        // 57014 query_canceled: PostgreSQL cancelled a statement past statement_timeout. The database is
        // too slow for now, as much a 503 as one that cannot be reached; the connection stays usable.
        if (e.sqlstate() == "57014")
            throw unavailable("database statement cancelled: it ran past the timeout");
        throw;
    } catch (const pqxx::broken_connection& e) {
        l.broken(e);
    } catch (const pqxx::in_doubt_error& e) {
        l.broken(e);
    }
}

} // namespace common::db
