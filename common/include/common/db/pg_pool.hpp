#pragma once

#include "common/errors.hpp"
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

/** PostgreSQL cannot be reached, or the connection broke mid-query: a 503 `STORE_UNAVAILABLE`. */
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
    std::chrono::milliseconds statement_timeout{10'000};
    /** Prepared on every connection: {name, sql}. Queries with inputs go through these only. */
    std::vector<std::pair<std::string, std::string>> statements;
    std::string application_name = "modebridge";
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
        auto job = [this, &f]() { return with_connection(f); };
        co_return co_await workers_.run(job);
    }

    /** `SELECT 1` on a pooled connection: true when the database answers. */
    net::awaitable<bool> ping();

    std::size_t size() const noexcept { return opts_.size; }
    std::size_t waiting() const noexcept { return workers_.waiting(); }
    /** Waits for queued jobs and stops the workers. */
    void join() { workers_.join(); }

private:
    class lease;

    template <class F>
    std::invoke_result_t<F&, pqxx::connection&> with_connection(F& f);

    std::unique_ptr<pqxx::connection> acquire();
    void release(std::unique_ptr<pqxx::connection> c);
    [[noreturn]] void broken(const std::exception& e);

    pool_options opts_;
    std::string conninfo_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
    std::atomic<std::int64_t> down_until_{0}; // steady_clock ticks: fail fast until then
    blocking_pool workers_;
};

template <class F>
std::invoke_result_t<F&, pqxx::connection&> pg_pool::with_connection(F& f)
{
    auto c = acquire();
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, pqxx::connection&>>) {
            f(*c);
            release(std::move(c));
        } else {
            auto r = f(*c);
            release(std::move(c));
            return r;
        }
    } catch (const pqxx::broken_connection& e) {
        broken(e); // drops the connection (c goes out of scope)
    } catch (const pqxx::in_doubt_error& e) {
        broken(e);
    } catch (...) {
        // Query errors leave the connection usable once its transaction is gone.
        if (c && c->is_open())
            release(std::move(c));
        throw;
    }
}

} // namespace common::db
