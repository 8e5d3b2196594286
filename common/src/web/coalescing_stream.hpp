#pragma once

// A write-coalescing layer between a WebSocket stream and its socket.
//
// Beast writes one WebSocket message at a time, and each message costs one send system call. A live
// stream that falls behind (events arrive faster than its socket takes them) would pay that call per
// event. This layer copies each frame Beast writes into the connection's buffer and completes the write
// at once: while the socket is idle the frame is sent straight away, by a non-blocking send without an
// asynchronous operation (one system call, as before, and no completion to dispatch); what the socket
// does not take, and the frames that follow while it is sent, wait in the buffer and leave together in
// the next single send. Frames keep their order, control frames (ping, pong, close) included, because
// every byte Beast writes goes through here. try_send() takes a whole frame built elsewhere (the
// fan-out's shared frames) the same way, without Beast's write operation.
//
// Bounded: past `high_water` bytes waiting, a write waits for the send in progress, so a client that
// stops reading holds back Beast's write as before (and the write timeout cuts it); try_send() refuses.
// An idle connection holds no buffer.
//
// Runs on the connection's strand only: the socket's executor. Not thread-safe.

#include "common/net/aliases.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace common::web::detail {

template <class Next>
class coalescing_stream
{
public:
    using executor_type = typename Next::executor_type;
    using next_layer_type = Next;

    /** Bytes that may wait behind the send in progress before writes wait for it. */
    static constexpr std::size_t high_water = 64 * 1024;

    explicit coalescing_stream(Next&& next)
        : next_(std::move(next))
        , st_(std::make_shared<state>(next_.get_executor()))
    {
    }
    coalescing_stream(coalescing_stream&&) = delete;
    coalescing_stream& operator=(coalescing_stream&&) = delete;

    ~coalescing_stream()
    {
        // A send still under way completes (aborted) after this: it must not touch the socket then.
        st_->alive = false;
    }

    executor_type get_executor() noexcept { return next_.get_executor(); }
    Next& next_layer() noexcept { return next_; }
    const Next& next_layer() const noexcept { return next_; }

    template <class MutableBufferSequence, class ReadHandler>
    auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler)
    {
        return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
    }

    template <class ConstBufferSequence, class WriteHandler>
    auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler)
    {
        return net::async_compose<WriteHandler, void(boost::system::error_code, std::size_t)>(
            write_op<ConstBufferSequence>{this, st_, buffers}, handler, next_);
    }

    /**
     * Takes `bytes` (whole frames) now, without an operation, unless a write waits for room: sent at
     * once when the socket is idle and takes them (the usual case: one send system call and nothing
     * else), else kept behind the send in progress. False, and nothing taken, when the connection
     * failed or the backlog is past `high_water`: the caller then writes through the WebSocket stream,
     * which waits for room (and its write timeout applies).
     */
    bool try_send(std::string_view bytes)
    {
        auto& st = *st_;
        if (st.failed || !st.alive || st.waiting.size() >= high_water)
            return false;
        if (st.in_flight) {
            st.waiting.append(bytes);
            return true;
        }
        std::size_t n = send_now(bytes);
        if (st.failed)
            return false;
        if (n < bytes.size()) {
            st.sending.assign(bytes.substr(n));
            start_async(*this, st_);
        }
        return true;
    }

    /** Waits until every accepted byte is sent (or the connection failed), then tears down the socket. */
    template <class TeardownHandler>
    void async_teardown(beast::role_type role, TeardownHandler&& handler)
    {
        net::async_compose<TeardownHandler, void(boost::system::error_code)>(teardown_op{this, st_, role},
                                                                             handler, next_);
    }

private:
    struct state
    {
        explicit state(const executor_type& ex)
            : room(ex)
        {
        }
        std::string waiting; // accepted, behind the send in progress
        std::string sending; // the send in progress
        bool in_flight = false;
        bool alive = true;
        boost::system::error_code failed;
        net::steady_timer room; // never expires: cancelled when a send ends, to wake whoever waits
    };

    /** Sends what waits (on the strand; nothing in flight): as much as the socket takes at once, without
        an operation; the rest, if any, by an asynchronous write. */
    static void send(coalescing_stream& self, const std::shared_ptr<state>& st)
    {
        std::size_t n = self.send_now(st->waiting);
        if (st->failed)
            return;
        if (n == st->waiting.size()) {
            st->waiting.clear();
            return;
        }
        st->sending.assign(st->waiting, n);
        st->waiting.clear();
        start_async(self, st);
    }

    /** What a non-blocking send takes of `bytes` now (0 when the socket's buffer is full); a failure
        is kept in `failed`. */
    std::size_t send_now(std::string_view bytes)
    {
        boost::system::error_code ec;
        if (!non_blocking_) {
            next_.non_blocking(true, ec);
            if (ec) {
                st_->failed = ec;
                return 0;
            }
            non_blocking_ = true;
        }
        std::size_t n = next_.write_some(net::buffer(bytes.data(), bytes.size()), ec);
        if (ec == net::error::would_block || ec == net::error::try_again)
            return 0;
        if (ec)
            st_->failed = ec;
        return ec ? 0 : n;
    }

    /** Sends `sending` with an operation: the socket could not take it all at once. */
    static void start_async(coalescing_stream& self, const std::shared_ptr<state>& st)
    {
        st->in_flight = true;
        auto* layer = &self;
        net::async_write(self.next_, net::buffer(st->sending),
                         [layer, st](boost::system::error_code ec, std::size_t) {
                             st->in_flight = false;
                             if (st->sending.capacity() > 4096)
                                 std::string().swap(st->sending); // an idle connection keeps nothing
                             else
                                 st->sending.clear();
                             if (ec)
                                 st->failed = ec;
                             else if (st->alive && !st->waiting.empty())
                                 send(*layer, st);
                             st->room.cancel();
                         });
    }

    template <class Buffers>
    struct write_op
    {
        coalescing_stream* layer;
        std::shared_ptr<state> st;
        Buffers buffers;
        bool started = false;

        template <class Self>
        void operator()(Self& self, boost::system::error_code = {})
        {
            if (!started) {
                // Never complete inside the initiating call.
                started = true;
                net::post(layer->get_executor(), std::move(self));
                return;
            }
            if (st->failed) {
                self.complete(st->failed, 0);
                return;
            }
            if (st->waiting.size() >= high_water) {
                st->room.expires_at(net::steady_timer::time_point::max());
                st->room.async_wait(std::move(self));
                return;
            }
            std::size_t n = 0;
            for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it) {
                net::const_buffer b(*it);
                st->waiting.append(static_cast<const char*>(b.data()), b.size());
                n += b.size();
            }
            if (!st->in_flight && !st->waiting.empty())
                send(*layer, st);
            self.complete({}, n);
        }
    };

    struct teardown_op
    {
        coalescing_stream* layer;
        std::shared_ptr<state> st;
        beast::role_type role;
        int step = 0;

        template <class Self>
        void operator()(Self& self, boost::system::error_code ec = {})
        {
            if (step == 0) {
                if (st->in_flight && !st->failed) {
                    st->room.expires_at(net::steady_timer::time_point::max());
                    st->room.async_wait(std::move(self));
                    return;
                }
                step = 1;
                websocket::async_teardown(role, layer->next_, std::move(self));
                return;
            }
            self.complete(ec);
        }
    };

    Next next_;
    std::shared_ptr<state> st_;
    bool non_blocking_ = false; // next_ in non-blocking mode, for the sends made without an operation
};

template <class Next, class TeardownHandler>
void async_teardown(beast::role_type role, coalescing_stream<Next>& stream, TeardownHandler&& handler)
{
    stream.async_teardown(role, std::forward<TeardownHandler>(handler));
}

template <class Next>
void teardown(beast::role_type role, coalescing_stream<Next>& stream, boost::system::error_code& ec)
{
    websocket::teardown(role, stream.next_layer(), ec);
}

} // namespace common::web::detail
