#include "ws_outbox.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace modesim {

ws_outbox::ws_outbox(net::any_io_executor strand, std::size_t limit)
    : strand_(std::move(strand))
    , limit_(limit)
    , wake_(strand_)
{
}

void ws_outbox::push(std::shared_ptr<const std::string> frame)
{
    // Onto the strand: the queue is touched there only.
    net::post(strand_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
        if (self->ending_)
            return;
        if (self->queue_.size() >= self->limit_) {
            self->queue_.clear();
            self->ending_.emplace(close_code::policy_violation, "too slow");
        } else {
            self->queue_.push_back(std::move(frame));
        }
        self->wake_.cancel();
    });
}

void ws_outbox::end(std::uint16_t code, std::string reason)
{
    net::post(strand_, [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
        if (self->ending_)
            return;
        self->queue_.clear();
        self->ending_.emplace(code, std::move(reason));
        self->wake_.cancel();
    });
}

net::awaitable<void> ws_outbox::write_loop(common::web::ws_connection& ws)
{
    for (;;) {
        if (ending_) {
            // The read loop running beside this one ends too once the peer answers the close.
            co_await ws.close(ending_->first, ending_->second);
            co_return;
        }
        if (queue_.empty()) {
            wake_.expires_at(net::steady_timer::time_point::max());
            co_await wake_.async_wait(net::as_tuple(net::use_awaitable));
            // A wake-up and a cancellation (the read loop beside this one ended) look alike: tell them apart.
            auto cs = co_await net::this_coro::cancellation_state;
            if (cs.cancelled() != net::cancellation_type::none)
                co_return;
            continue;
        }
        std::shared_ptr<const std::string> frame = std::move(queue_.front());
        queue_.pop_front();
        bool sent = co_await ws.write(*frame);
        if (!sent)
            co_return; // the connection is gone
    }
}

} // namespace modesim
