#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace common {

/**
 * A fixed set of threads for blocking work (libpqxx queries, Argon2id, SMTP), so that no I/O thread
 * ever blocks. `co_await pool.run(f)` runs `f()` on one of the pool's threads and resumes the caller on
 * its own executor (strand) with the result or the exception. Jobs beyond the thread count wait in
 * order: the pool bounds how much blocking work runs at once.
 *
 * Thread-safety: `run` may be called from any thread. The pool must outlive every job; `join` (or the
 * destructor) waits for the queued jobs.
 */
class blocking_pool
{
public:
    /** `nice` > 0 lowers the priority of the pool's threads (Linux: per thread), so CPU-heavy work such
        as password hashing yields to the I/O threads when the machine is busy. */
    explicit blocking_pool(std::size_t threads, int nice = 0)
        : pool_(threads)
        , threads_(threads)
        , nice_(nice)
    {
    }
    ~blocking_pool() { join(); }
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;

    template <class F>
    net::awaitable<std::invoke_result_t<F&>> run(F f)
    {
        waiting_.fetch_add(1, std::memory_order_relaxed);
        co_return co_await start(std::move(f));
    }

    /**
     * Like `run`, unless `max_waiting` jobs already wait for a thread: then nothing runs and the
     * answer is empty at once. Bounds the queue of work that callers can shed (password hashing in a
     * login storm) instead of letting it grow without limit. `f` must return a value.
     */
    template <class F>
    net::awaitable<std::optional<std::invoke_result_t<F&>>> try_run(F f, std::size_t max_waiting)
    {
        static_assert(!std::is_void_v<std::invoke_result_t<F&>>, "try_run needs a result");
        auto n = waiting_.load(std::memory_order_relaxed);
        do {
            if (n >= max_waiting)
                co_return std::nullopt;
        } while (!waiting_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
        co_return co_await start(std::move(f));
    }

    std::size_t threads() const noexcept { return threads_; }
    /** Jobs queued but not yet started. */
    std::size_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }

    void join()
    {
        pool_.join();
    }

private:
    /** Runs `f` on the pool; the caller has counted it in `waiting_`. */
    template <class F>
    net::awaitable<std::invoke_result_t<F&>> start(F f)
    {
        using result = std::invoke_result_t<F&>;
        // `f` lives in this frame, which stays suspended until the job is done. The job is a named
        // lambda rather than a temporary (GCC 12 bug 107288 with temporaries in co_spawn).
        if constexpr (std::is_void_v<result>) {
            auto job = [this, &f]() -> net::awaitable<void> {
                waiting_.fetch_sub(1, std::memory_order_relaxed);
                apply_nice();
                f();
                co_return;
            };
            co_await net::co_spawn(pool_.get_executor(), std::move(job), net::use_awaitable);
        } else {
            auto job = [this, &f]() -> net::awaitable<std::optional<result>> {
                waiting_.fetch_sub(1, std::memory_order_relaxed);
                apply_nice();
                co_return std::optional<result>(f());
            };
            auto r = co_await net::co_spawn(pool_.get_executor(), std::move(job), net::use_awaitable);
            co_return std::move(*r);
        }
    }

    /** Once per worker thread. */
    void apply_nice() const;

    net::thread_pool pool_;
    std::size_t threads_;
    int nice_ = 0;
    std::atomic<std::size_t> waiting_{0};
};

} // namespace common
