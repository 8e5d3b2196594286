#include "common/web/server.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/web/router.hpp"
#include "common/web/websocket.hpp"
#include "server_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/post.hpp>

#include <random>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace common::web {

using boost::asio::ip::tcp;

server::impl::impl(net::io_context& io, tcp::endpoint ep, server_options o, handler hd,
                   std::shared_ptr<metrics::registry> m)
    : ioc(io)
    , accept_strand(net::make_strand(io))
    , acceptor(accept_strand)
    , listen_endpoint(ep)
    , opts(std::move(o))
    , h(std::move(hd))
    , metrics(m ? std::move(m) : std::make_shared<metrics::registry>())
{
    tls = opts.tls;
    for (std::size_t i = 0; i < opts.shards; ++i)
        shard_strands.push_back(net::make_strand(io));
    open_connections = &metrics->gauge_for("mb_http_connections", "Open HTTP connections");
    open_websockets = &metrics->gauge_for("mb_ws_connections", "Open WebSocket connections");
}

std::string text_frame(std::string_view payload)
{
    // FIN + text opcode; no mask (a server's frames are not masked); the length in 7, 7+16 or 7+64 bits.
    std::string out;
    auto n = static_cast<std::uint64_t>(payload.size());
    out.reserve(payload.size() + 10);
    out.push_back(static_cast<char>(0x81));
    if (n < 126) {
        out.push_back(static_cast<char>(n));
    } else if (n <= 0xffff) {
        out.push_back(static_cast<char>(126));
        for (int shift = 8; shift >= 0; shift -= 8)
            out.push_back(static_cast<char>((n >> shift) & 0xff));
    } else {
        out.push_back(static_cast<char>(127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.push_back(static_cast<char>((n >> shift) & 0xff));
    }
    out.append(payload);
    return out;
}

// For connections other than the server's own (which write without a coroutine): a coroutine does it.
void ws_connection::start_write_shared(std::shared_ptr<const std::string> text, std::shared_ptr<write_listener> done)
{
    auto write = [this, text = std::move(text), done = std::move(done)]() -> net::awaitable<void> {
        bool ok = co_await write_shared(*text);
        done->written(ok);
    };
    net::co_spawn(executor(), std::move(write), [](std::exception_ptr) {});
}

void server::impl::add_session(std::uint64_t id, std::shared_ptr<session_state> s)
{
    std::lock_guard lock(mutex);
    auto& n = per_address[s->peer];
    ++n;
    s->over_address_limit = opts.connections_per_address != 0 && n > opts.connections_per_address;
    sessions.emplace(id, std::move(s));
    open_connections->add(1);
}

void server::impl::remove_session(std::uint64_t id)
{
    std::lock_guard lock(mutex);
    auto it = sessions.find(id);
    if (it == sessions.end())
        return;
    if (auto a = per_address.find(it->second->peer); a != per_address.end() && --a->second == 0)
        per_address.erase(a);
    sessions.erase(it);
    open_connections->add(-1);
}

net::awaitable<void> server::impl::accept_loop()
{
    auto self = shared_from_this();
    while (!stopping) {
        // Each connection gets its own strand, or its shard's: its reads, writes and handler run
        // serialised on it.
        std::size_t shard = 0;
        net::any_io_executor strand;
        if (shard_strands.empty()) {
            strand = net::make_strand(ioc);
        } else {
            shard = next_shard++ % shard_strands.size();
            strand = shard_strands[shard];
        }
        auto [ec, socket] = co_await acceptor.async_accept(strand, net::as_tuple(net::use_awaitable));
        if (ec) {
            if (ec == net::error::operation_aborted || stopping)
                break;
            // Out of file descriptors and the like: back off instead of spinning.
            log::warn("http.accept", {{"error", ec.message()}});
            net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(100));
            co_await t.async_wait(net::as_tuple(net::use_awaitable));
            continue;
        }
        {
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
        }
        auto st = std::make_shared<session_state>();
        st->strand = strand;
        {
            boost::system::error_code ignored;
            st->peer = socket.remote_endpoint(ignored).address();
        }
        st->shard = shard;
        std::uint64_t id = 0;
        {
            std::lock_guard lock(mutex);
            id = ++next_session_id;
        }
        add_session(id, st);
        auto done = [self, id](std::exception_ptr e) {
            self->remove_session(id);
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    log::error("http.session", {{"error", ex.what()}});
                }
            }
        };
        // An upgraded connection continues as a WebSocket on the same strand, in a coroutine of its own
        // (the HTTP session's frame is gone by then); the session ends with it.
        if (opts.tls)
            net::co_spawn(strand, run_tls_session(self, st, std::move(socket)),
                          [self, st, done](std::exception_ptr e, std::optional<tls_handoff> up) mutable {
                              if (e || !up)
                                  return done(e);
                              net::co_spawn(st->strand, run_tls_websocket(self, st, std::move(*up)), std::move(done));
                          });
        else
            net::co_spawn(strand, run_plain_session(self, st, std::move(socket)),
                          [self, st, done](std::exception_ptr e, std::optional<plain_handoff> up) mutable {
                              if (e || !up)
                                  return done(e);
                              net::co_spawn(st->strand, run_plain_websocket(self, st, std::move(*up)), std::move(done));
                          });
    }
}

net::awaitable<response> server::impl::invoke(request& req, request_context& ctx)
{
    try {
        co_return co_await h(req, ctx);
    } catch (const problem& p) {
        co_return make_problem_response(p, req.version(), req.keep_alive());
    } catch (const unavailable_error& e) {
        log::warn("http.dependency_unavailable", {{"request_id", ctx.request_id}, {"code", e.code()}, {"error", e.what()}});
        co_return make_problem_response(
            service_unavailable(e.code(), "a service this request needs is unavailable; try again shortly",
                                e.retry_after()),
            req.version(), req.keep_alive());
    } catch (const std::exception& e) {
        log::error("http.handler", {{"request_id", ctx.request_id}, {"error", e.what()}});
    }
    co_return make_problem_response(
        problem(http::status::internal_server_error, "INTERNAL",
                "an unexpected error occurred; quote the X-Request-Id when reporting it"),
        req.version(), req.keep_alive());
}

void server::impl::record(const request& req, const request_context& ctx, unsigned status)
{
    auto elapsed = std::chrono::steady_clock::now() - ctx.started;
    double seconds = std::chrono::duration<double>(elapsed).count();
    const std::string& route = ctx.route.empty() ? unmatched_route : ctx.route;
    auto method = req.method_string();
    // The metric handles of each (method, route, status) are looked up in the registry once.
    std::string key;
    key.reserve(method.size() + route.size() + 8);
    key.append(method.data(), method.size()).append(" ").append(route).append(" ").append(std::to_string(status));
    std::pair<metrics::counter*, metrics::histogram*> handles{nullptr, nullptr};
    {
        std::lock_guard lock(metrics_mutex);
        if (auto it = metric_handles.find(key); it != metric_handles.end())
            handles = it->second;
    }
    if (handles.first == nullptr) {
        std::string m(method);
        handles.first = &metrics->counter_for("mb_http_requests_total", "HTTP requests answered",
                                              {{"method", m}, {"route", route}, {"status", std::to_string(status)}});
        handles.second = &metrics->histogram_for("mb_http_request_duration_seconds",
                                                 "Time from request read to answer written", {{"route", route}});
        std::lock_guard lock(metrics_mutex);
        metric_handles.emplace(std::move(key), handles);
    }
    handles.first->inc();
    handles.second->observe(seconds);
    if (log::enabled(log::level::info)) {
        auto path = target_path(std::string_view(req.target().data(), req.target().size()));
        log::info("http.request", {{"request_id", ctx.request_id},
                                   {"method", std::string_view(method.data(), method.size())},
                                   {"path", path},
                                   {"status", status},
                                   {"duration_us", static_cast<std::int64_t>(seconds * 1e6)}});
    }
}

std::string request_id_for(const request& req)
{
    auto given = req["X-Request-Id"];
    bool sane = !given.empty() && given.size() <= 128;
    for (char c : given) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.' || c == ':';
        sane = sane && ok;
    }
    if (sane)
        return std::string(given);
    // Not a secret, just unique enough to find a request in the logs.
    thread_local std::mt19937_64 gen{std::random_device{}()};
    return fmt::format("{:016x}", gen());
}

server::server(net::io_context& ioc, tcp::endpoint listen, server_options opts, handler h,
               std::shared_ptr<metrics::registry> metrics)
    : impl_(std::make_shared<impl>(ioc, listen, std::move(opts), std::move(h), std::move(metrics)))
{
}

server::~server() = default;

void server::start()
{
    auto& a = impl_->acceptor;
    auto ep = impl_->listen_endpoint;
    try {
        a.open(ep.protocol());
        a.set_option(net::socket_base::reuse_address(true));
        a.bind(ep);
        a.listen(net::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", ep.address().to_string(), ep.port(),
                                             e.code().message()));
    }
    auto self = impl_;
    net::co_spawn(impl_->accept_strand, impl_->accept_loop(), [self](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::error("http.accept_loop", {{"error", ex.what()}});
            }
        }
    });
}

tcp::endpoint server::local_endpoint() const
{
    boost::system::error_code ec;
    return impl_->acceptor.local_endpoint(ec);
}

std::size_t server::connections() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->sessions.size();
}

net::awaitable<void> server::shutdown(std::chrono::milliseconds grace)
{
    auto self = impl_;
    self->stopping = true;
    // Stop accepting. The acceptor belongs to its strand, so it is closed there.
    net::post(self->accept_strand, [self] {
        boost::system::error_code ignored;
        self->acceptor.close(ignored);
    });

    auto snapshot = [&] {
        std::lock_guard lock(self->mutex);
        std::vector<std::shared_ptr<session_state>> out;
        for (auto& [id, s] : self->sessions)
            out.push_back(s);
        return out;
    };
    auto close_sessions = [&](bool only_idle) {
        for (auto& s : snapshot())
            net::post(s->strand, [s, only_idle] {
                if ((!only_idle || s->idle || s->websocket) && s->close)
                    s->close();
            });
    };
    // Idle connections go now, and WebSockets get their 1001 close now (they have no request to finish);
    // busy ones finish their request (answered with Connection: close).
    close_sessions(true);
    net::steady_timer timer(co_await net::this_coro::executor);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (connections() > 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (connections() > 0) {
        log::warn("http.shutdown", {{"closing_busy_connections", connections()}});
        close_sessions(false);
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (connections() > 0 && std::chrono::steady_clock::now() < deadline) {
            timer.expires_after(std::chrono::milliseconds(20));
            co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        }
    }
}

void server::replace_tls(std::shared_ptr<ssl::context> ctx)
{
    if (!impl_->opts.tls || !ctx)
        throw std::logic_error("replace_tls: the server does not serve TLS");
    std::lock_guard lock(impl_->mutex);
    impl_->tls = std::move(ctx);
}

std::shared_ptr<ssl::context> load_server_tls(const std::string& cert_file, const std::string& key_file)
{
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    try {
        ctx->use_certificate_chain_file(cert_file);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot load the TLS certificate (MB_TLS_CERT_FILE): " + e.code().message());
    }
    try {
        ctx->use_private_key_file(key_file, ssl::context::pem);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot load the TLS private key (MB_TLS_KEY_FILE): " + e.code().message());
    }
    return ctx;
}

} // namespace common::web
