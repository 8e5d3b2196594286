#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <functional>

namespace common {

/**
 * Owns a service's io_context and runs it on N threads. The first SIGINT or SIGTERM (or
 * `request_shutdown`) runs the service's graceful shutdown coroutine; when it completes the io_context
 * stops and `run` returns 0. A second signal during shutdown stops at once and `run` returns 1. SIGHUP
 * calls the `on_reload` function (a renewed TLS certificate) and nothing else.
 *
 * Thread-safety: `request_shutdown` may be called from any thread; `run` from the main thread once.
 */
class app_runner
{
public:
    explicit app_runner(std::size_t threads);

    net::io_context& ioc() noexcept { return ioc_; }

    int run(std::function<net::awaitable<void>()> shutdown);
    void request_shutdown();
    /** Called on an I/O thread at every SIGHUP while `run` runs (set it before): reload what can be. */
    void on_reload(std::function<void()> reload) { reload_ = std::move(reload); }

private:
    void begin_shutdown();

    net::io_context ioc_;
    std::size_t threads_;
    std::function<net::awaitable<void>()> shutdown_;
    std::function<void()> reload_;
    std::atomic<int> signals_{0};
    std::atomic<bool> forced_{false};
};

/**
 * The body of a service's `main`: sets up logging under `service`, runs `body` and maps failures to
 * exit codes: 2 for a configuration error (one log line naming the variable), 1 for any other failure
 * at start. Returns what `body` returns otherwise.
 */
int service_main(const char* service, const std::function<int()>& body);

} // namespace common
