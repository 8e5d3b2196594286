#include "common/util/background_loop.hpp"

#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace common {

background_loop::background_loop(net::any_io_executor strand, std::string log_event, std::chrono::milliseconds idle,
                                 backoff after_error)
    : timer_(std::move(strand))
    , log_event_(std::move(log_event))
    , idle_(idle)
    , after_error_(after_error)
{
}

net::awaitable<void> background_loop::run(pass one_pass)
{
    while (!stopped_) {
        woken_ = false;
        std::chrono::milliseconds pause = idle_;
        try {
            if (co_await one_pass())
                pause = std::chrono::milliseconds(0);
            after_error_.reset();
        } catch (const std::exception& e) {
            log::warn(log_event_, {{"error", e.what()}});
            pause = after_error_.next();
        }
        if (stopped_ || woken_ || pause.count() <= 0)
            continue;
        co_await sleep(pause);
    }
}

net::awaitable<void> background_loop::sleep(std::chrono::milliseconds d)
{
    if (d == until_woken)
        timer_.expires_at(net::steady_timer::time_point::max());
    else
        timer_.expires_after(d);
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
}

void background_loop::wake()
{
    woken_ = true;
    net::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

void background_loop::stop()
{
    stopped_ = true;
    net::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

} // namespace common
