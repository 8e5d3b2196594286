#pragma once

// The WebSocket connection, written once for any stream type and instantiated in ws_plain.cpp and
// ws_tls.cpp (one stream type per translation unit keeps the HTTP session TUs and builds lean).

#include "common/log.hpp"
#include "common/web/router.hpp"
#include "common/web/websocket.hpp"
#include "server_impl.hpp"
#include "ws_close_and_handshake.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <array>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace common::web::detail {

/**
 * ws_connection over `websocket::stream<Stream>`. Owned by a shared_ptr: run() holds it, and so does a
 * close started by the shutdown hook, which may outlive run() by the few moments the closing handshake
 * takes. Runs on the connection's strand only (everything here, the hook included, is called there).
 */
template <class Stream>
class ws_session final : public ws_connection, public std::enable_shared_from_this<ws_session<Stream>>
{
public:
    /** `stream`: what `Stream` is made from (the stream itself, or the socket a layer wraps). */
    template <class Arg>
    ws_session(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st, Arg&& stream)
        : srv_(std::move(srv))
        , st_(std::move(st))
        , ws_(std::forward<Arg>(stream))
        , close_done_(st_->strand)
        , write_watch_(st_->strand)
    {
    }

    net::awaitable<std::optional<std::string>> read() override
    {
        if (read_ended_)
            co_return std::nullopt;
        auto [ec, n] = co_await ws_.async_read(buffer_, net::as_tuple(net::use_awaitable));
        if (ec) {
            read_ended_ = true;
            note_read_error(ec);
            co_return std::nullopt;
        }
        std::string out = beast::buffers_to_string(buffer_.data());
        buffer_.consume(n);
        co_return out;
    }

    net::awaitable<void> discard() override
    {
        // A few bytes in the coroutine frame: Beast parses frame headers in its own buffer and hands
        // over payload bytes only, which go nowhere.
        std::array<char, 64> sink;
        while (!read_ended_) {
            auto [ec, n] = co_await ws_.async_read_some(net::buffer(sink), net::as_tuple(net::use_awaitable));
            if (ec) {
                read_ended_ = true;
                note_read_error(ec);
            }
        }
    }

    net::awaitable<bool> write(std::string text) override
    {
        co_return co_await write_view(text);
    }

    net::awaitable<bool> write_shared(const std::string& text) override
    {
        co_return co_await write_view(text);
    }

    void start_write_shared(std::shared_ptr<const std::string> text, std::shared_ptr<write_listener> done) override
    {
        if (close_started_ || !ws_.is_open()) {
            net::post(st_->strand, [done = std::move(done)] { done->written(false); });
            return;
        }
        begin_write();
        auto buffer = net::buffer(text->data(), text->size());
        ws_.async_write(buffer, [self = this->shared_from_this(), text = std::move(text),
                                 done = std::move(done)](boost::system::error_code ec, std::size_t) {
            self->writing_ = false;
            done->written(!ec);
        });
    }

    bool send_frame_now(std::string_view frame) override
    {
        // Only between whole frames of Beast's own: none of ours under way (Beast writes each frame into
        // the layer in one step, so its pings and pongs never split one of these), and never after a
        // close frame (Beast leaves the open state before it writes one).
        if constexpr (requires { ws_.next_layer().try_send(frame); }) {
            if (close_started_ || writing_ || !ws_.is_open())
                return false;
            return ws_.next_layer().try_send(frame);
        } else {
            return false;
        }
    }

    net::awaitable<void> close(std::uint16_t code, std::string reason) override
    {
        if (close_started_ || !ws_.is_open())
            co_return;
        close_started_ = true;
        sent_code_ = code;
        if (end_ == ws_end::none)
            end_ = stopping_ ? ws_end::shutdown : ws_end::server;
        if (reason.size() > 123) // what fits in a control frame after the code
            reason.resize(123);
        // Beast sends the close frame (after a write in progress), then waits for the peer's answer,
        // through a pending read when there is one; the handshake timeout bounds the wait.
        websocket::close_reason why(static_cast<websocket::close_code>(code), reason);
        auto [ec] = co_await ws_.async_close(why, net::as_tuple(net::use_awaitable));
        if (!ec)
            note_peer_code();
        close_finished_ = true;
        close_done_.cancel();
    }

    net::any_io_executor executor() const override { return st_->strand; }
    std::size_t shard() const override { return st_->shard; }
    std::optional<std::uint16_t> close_code() const override { return peer_code_; }
    bool stopping() const override { return stopping_; }
    std::string_view end_cause() const override
    {
        return end_ == ws_end::none ? "" : write_timed_out_ ? "write_timeout" : to_string(end_);
    }

    /** The whole life of the connection: handshake, endpoint, close, log line. `self` (this session)
        keeps it alive in the one coroutine frame, so callers need no frame of their own. */
    net::awaitable<void> run(std::shared_ptr<ws_session> self, upgrade_request up)
    {
        (void)self;
        prepare(up);
        install_close_hook();
        close_hook_guard guard{*st_};
        auto [aec] = co_await ws_.async_accept(up.req, net::as_tuple(net::use_awaitable));
        if (aec) {
            // Beast has answered a bad handshake (400) itself; there is no connection to run.
            srv_->record(up.req, up.ctx, static_cast<unsigned>(http::status::bad_request));
            co_return;
        }
        srv_->record(up.req, up.ctx, static_cast<unsigned>(http::status::switching_protocols));
        // Only the handshake needed these: the handler's 101 and the decorator that copied it out.
        up.res = {};
        ws_.set_option(websocket::stream_base::decorator([](websocket::response_type&) {}));
        srv_->open_websockets->add(1);
        auto opened = std::chrono::steady_clock::now();

        std::uint16_t final_code = ws_close::normal;
        // The shutdown may have begun while this connection was still an HTTP request: it missed the
        // first round of closes, so it goes away at once.
        if (srv_->stopping)
            stopping_ = true;
        if (!stopping_) {
            try {
                co_await (*up.ctx.websocket)(up.req, up.ctx, *this);
            } catch (const std::exception& e) {
                log::error("ws.handler", {{"request_id", up.ctx.request_id}, {"error", e.what()}});
                final_code = ws_close::internal_error;
            }
        }
        if (stopping_)
            final_code = ws_close::going_away;
        co_await close(final_code, stopping_ ? "server going away" : "");
        // A close started elsewhere (the shutdown hook) may still be waiting for the peer's answer.
        while (close_started_ && !close_finished_) {
            close_done_.expires_after(std::chrono::seconds(30));
            co_await close_done_.async_wait(net::as_tuple(net::use_awaitable));
        }
        srv_->open_websockets->add(-1);
        log_closed(up, opened);
    }

private:
    net::awaitable<bool> write_view(std::string_view text)
    {
        if (close_started_ || !ws_.is_open())
            co_return false;
        begin_write();
        auto [ec, n] = co_await ws_.async_write(net::buffer(text.data(), text.size()), net::as_tuple(net::use_awaitable));
        writing_ = false;
        co_return !ec;
    }

    void begin_write()
    {
        ws_.text(true);
        writing_ = true;
        writing_since_ = std::chrono::steady_clock::now();
        watch_write();
    }

    // A write that makes no progress within ws_write_timeout (a peer that stopped reading, its window
    // full) cuts the connection, so that neither it nor its close can hang. One timer, armed while
    // writes go on; an idle connection has none pending.
    void watch_write()
    {
        auto limit = srv_->opts.ws_write_timeout;
        if (watching_ || limit.count() <= 0)
            return;
        watching_ = true;
        write_watch_.expires_at(writing_since_ + limit);
        std::weak_ptr<ws_session> weak = this->shared_from_this();
        write_watch_.async_wait([weak](boost::system::error_code) {
            auto self = weak.lock();
            if (!self)
                return;
            self->watching_ = false;
            if (!self->writing_)
                return;
            if (std::chrono::steady_clock::now() - self->writing_since_ < self->srv_->opts.ws_write_timeout) {
                self->watch_write();
                return;
            }
            log::info("ws.write_timeout", {{"after_ms", static_cast<std::int64_t>(self->srv_->opts.ws_write_timeout.count())}});
            if (self->end_ == ws_end::none) {
                self->end_ = ws_end::timeout;
                self->write_timed_out_ = true;
            }
            boost::system::error_code ignored;
            socket_of(self->ws_).close(ignored);
        });
    }

    void prepare(const upgrade_request& up)
    {
        // Beast's own timers govern from here on; a stream deadline would cut long-lived connections.
        if constexpr (requires { beast::get_lowest_layer(ws_).expires_never(); })
            beast::get_lowest_layer(ws_).expires_never();
        websocket::stream_base::timeout t{};
        t.handshake_timeout = std::chrono::seconds(10);
        t.idle_timeout = srv_->opts.ws_idle_timeout;
        t.keep_alive_pings = true;
        ws_.set_option(t);
        websocket::permessage_deflate pmd;
        pmd.server_enable = false;
        pmd.client_enable = false;
        ws_.set_option(pmd);
        ws_.read_message_max(srv_->opts.ws_message_limit);

        std::vector<std::pair<std::string, std::string>> extra;
        for (const auto& f : up.res)
            if (!is_handshake_field(f.name()))
                extra.emplace_back(std::string(f.name_string()), std::string(f.value()));
        extra.emplace_back("X-Request-Id", up.ctx.request_id);
        ws_.set_option(websocket::stream_base::decorator([extra = std::move(extra)](websocket::response_type& res) {
            res.erase(http::field::server); // no version banner
            for (const auto& [name, value] : extra)
                res.set(name, value);
        }));
    }

    void install_close_hook()
    {
        st_->websocket = true;
        std::weak_ptr<ws_session> weak = this->shared_from_this();
        st_->close = [weak] {
            auto self = weak.lock();
            if (!self)
                return;
            if (self->stopping_) {
                // Second call: the grace period is over; cut the connection.
                boost::system::error_code ignored;
                socket_of(self->ws_).close(ignored);
                return;
            }
            self->stopping_ = true;
            auto closer = [self]() -> net::awaitable<void> {
                co_await self->close(ws_close::going_away, "server going away");
            };
            net::co_spawn(self->st_->strand, std::move(closer), [](std::exception_ptr e) {
                if (!e)
                    return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    log::error("ws.shutdown_close", {{"error", ex.what()}});
                }
            });
        };
    }

    void note_peer_code()
    {
        auto code = static_cast<std::uint16_t>(ws_.reason().code);
        if (code != 0)
            peer_code_ = code;
    }

    void note_read_error(const boost::system::error_code& ec)
    {
        if (ec == websocket::error::closed) {
            note_peer_code();
            if (end_ == ws_end::none)
                end_ = ws_end::peer;
        } else if (end_ != ws_end::none) {
            // Our own close was under way.
        } else if (ec == beast::error::timeout) {
            end_ = ws_end::timeout;
        } else if (ec == websocket::error::message_too_big) {
            end_ = ws_end::too_big; // Beast has sent the 1009 close itself
            sent_code_ = ws_close::too_big;
        } else {
            end_ = ws_end::error;
            if (ec != net::error::operation_aborted && ec != net::error::eof &&
                ec != net::error::connection_reset && ec != beast::error::timeout)
                log::debug("ws.read", {{"error", ec.message()}});
        }
    }

    void log_closed(const upgrade_request& up, std::chrono::steady_clock::time_point opened)
    {
        // The code on the wire: ours when we closed first, the peer's when it did, 1006 when neither.
        std::uint16_t code = 1006;
        if (end_ == ws_end::peer && peer_code_)
            code = *peer_code_;
        else if (sent_code_ != 0)
            code = sent_code_;
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - opened);
        auto path = target_path(std::string_view(up.req.target().data(), up.req.target().size()));
        log::info("ws.closed", {{"request_id", up.ctx.request_id},
                                {"path", path},
                                {"close_code", code},
                                {"by", to_string(end_)},
                                {"duration_ms", static_cast<std::int64_t>(ms.count())}});
    }

    std::shared_ptr<server::impl> srv_;
    std::shared_ptr<session_state> st_;
    websocket::stream<Stream> ws_;
    beast::flat_buffer buffer_;
    net::steady_timer close_done_; // cancelled when a close completes, for run() to wait on
    net::steady_timer write_watch_; // see watch_write
    std::chrono::steady_clock::time_point writing_since_{};
    bool writing_ = false;
    bool watching_ = false;
    bool read_ended_ = false;
    bool close_started_ = false;
    bool close_finished_ = false;
    bool stopping_ = false;
    std::uint16_t sent_code_ = 0;
    std::optional<std::uint16_t> peer_code_;
    ws_end end_ = ws_end::none;
    bool write_timed_out_ = false; // end_ is timeout because a write made no progress
};

/** Runs an upgraded connection to its end (see ws_session). Not a coroutine: the connection's only
    frames are the session's own. */
template <class Stream, class Arg>
net::awaitable<void> run_websocket(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st,
                                   Arg&& stream, upgrade_request up)
{
    auto session = std::make_shared<ws_session<Stream>>(std::move(srv), std::move(st), std::forward<Arg>(stream));
    auto* s = session.get();
    return s->run(std::move(session), std::move(up));
}

} // namespace common::web::detail
