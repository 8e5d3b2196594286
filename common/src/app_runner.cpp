#include "common/app_runner.hpp"

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/util/blocking_pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <thread>
#include <vector>

namespace common {

app_runner::app_runner(std::size_t threads)
    : ioc_(static_cast<int>(threads))
    , threads_(threads)
{
}

void app_runner::begin_shutdown()
{
    int n = ++signals_;
    if (n == 1) {
        log::info("service.stopping");
        net::co_spawn(ioc_, shutdown_(), [this](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    log::error("service.shutdown", {{"error", ex.what()}});
                }
            }
            ioc_.stop();
        });
    } else if (n == 2) {
        log::warn("service.forced_stop");
        forced_ = true;
        ioc_.stop();
    }
}

void app_runner::request_shutdown()
{
    net::post(ioc_, [this] { begin_shutdown(); });
}

int app_runner::run(std::function<net::awaitable<void>()> shutdown)
{
    shutdown_ = std::move(shutdown);
    net::signal_set signals(ioc_, SIGINT, SIGTERM);
    std::function<void(const boost::system::error_code&, int)> on_signal;
    on_signal = [&](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        begin_shutdown();
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
    net::signal_set hangups(ioc_, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_hangup;
    on_hangup = [&](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        if (reload_)
            reload_();
        hangups.async_wait(on_hangup);
    };
    hangups.async_wait(on_hangup);

    std::vector<std::thread> extra;
    for (std::size_t i = 1; i < threads_; ++i)
        extra.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : extra)
        t.join();
    log::info("service.stopped");
    return forced_ ? 1 : 0;
}

int service_main(const char* service, const std::function<int()>& body)
{
    log::init(service, log::level::info);
    try {
        return body();
    } catch (const config::error& e) {
        log::error("service.config", {{"error", e.what()}});
        return 2;
    } catch (const std::exception& e) {
        log::error("service.start", {{"error", e.what()}});
        return 1;
    }
}

void blocking_pool::apply_nice() const
{
    thread_local bool applied = false;
    if (applied || nice_ == 0)
        return;
    applied = true;
    // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value alone.
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice_) != 0)
        log::debug("pool.nice", {{"error", "setpriority failed"}});
}

} // namespace common
