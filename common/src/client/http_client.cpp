// http_client: URL and request preparation, the per-attempt exchange with its deadlines, and the
// retry policy. The Beast stream code lives in connection_plain.cpp / connection_tls.cpp.

#include "common/client/http_client.hpp"

#include "client/connection.hpp"
#include "client/connection_pool.hpp"
#include "client/request_target.hpp"
#include "client/watchdog.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <mutex>

namespace common::client {

namespace detail {
namespace {

using clock = std::chrono::steady_clock;
using boost::system::error_code;

enum class phase
{
    resolve,
    connect,
    handshake,
    write,
    read,
    done
};

/** What one attempt needs; shared with the coroutine running on the connection's strand. */
struct attempt_input
{
    std::shared_ptr<connection> conn;
    bool fresh = false;
    std::shared_ptr<const request_target> target;
    std::shared_ptr<const request_message> msg;
    clock::time_point connect_deadline;
    clock::time_point deadline;
    std::size_t body_limit = 0;
};

struct attempt_outcome
{
    phase where = phase::done;
    error_code ec;
    bool timed_out = false;
    std::size_t written = 0;
    std::string certificate_problem;
    response res;
    bool reusable = false;
};

struct resolve_state
{
    error_code ec;
    tcp::resolver::results_type results;
    bool done = false;
};

// getaddrinfo cannot be interrupted (asio's cancel only stops a lookup that has not started), so
// rather than awaiting it we await a timer that the lookup's completion cancels: the deadline holds
// even when DNS hangs; the abandoned lookup finishes in the background.
net::awaitable<error_code>
resolve(const request_target& t, clock::time_point deadline, tcp::resolver::results_type& out)
{
    const auto ex = co_await net::this_coro::executor;
    auto resolver = std::make_shared<tcp::resolver>(ex);
    auto st = std::make_shared<resolve_state>();
    auto wake = std::make_shared<net::steady_timer>(ex, deadline);
    resolver->async_resolve(
        t.host,
        t.port,
        [resolver, st, wake](error_code ec, tcp::resolver::results_type r) {
            st->ec = ec;
            st->results = std::move(r);
            st->done = true;
            wake->cancel();
        }
    );
    auto [wait_ec] = co_await wake->async_wait(net::as_tuple(net::use_awaitable));
    if (!st->done) {
        resolver->cancel();
        // Aborted without the lookup having cancelled it: the caller cancelled us.
        if (wait_ec == net::error::operation_aborted)
            co_return wait_ec;
        co_return error_code(net::error::timed_out);
    }
    out = std::move(st->results);
    co_return st->ec;
}

// One exchange on one connection: [resolve, connect, handshake,] write, read. Runs on the
// connection's strand, which also serialises the watchdog with it.
net::awaitable<attempt_outcome> run_attempt(std::shared_ptr<attempt_input> in)
{
    attempt_outcome out;
    const auto ex = co_await net::this_coro::executor;
    watchdog dog(ex, in->conn);
    auto failed = [&](phase where, error_code ec) {
        out.where = where;
        out.ec = ec;
        out.timed_out = dog.fired();
    };

    if (in->fresh) {
        tcp::resolver::results_type endpoints;
        if (auto ec = co_await resolve(*in->target, in->connect_deadline, endpoints)) {
            failed(phase::resolve, ec);
            out.timed_out = ec == net::error::timed_out;
            co_return out;
        }
        dog.arm(in->connect_deadline);
        if (auto ec = co_await in->conn->connect(endpoints)) {
            failed(phase::connect, ec);
            co_return out;
        }
        if (auto ec = co_await in->conn->handshake()) {
            failed(phase::handshake, ec);
            out.certificate_problem = in->conn->certificate_problem();
            co_return out;
        }
    }
    dog.arm(in->deadline);

    auto w = co_await in->conn->write(*in->msg);
    out.written = w.bytes;
    if (w.ec) {
        failed(phase::write, w.ec);
        co_return out;
    }
    const bool head = in->msg->method() == http::verb::head;
    auto r = co_await in->conn->read(in->body_limit, head);
    if (r.ec) {
        failed(phase::read, r.ec);
        co_return out;
    }
    out.res.status = r.msg.result_int();
    out.res.body = std::move(r.msg.body());
    out.res.headers = std::move(static_cast<http::fields&>(r.msg));
    // If the deadline fired just as the answer completed, the socket is already closed.
    out.reusable = r.keep_alive && !dog.fired();
    co_return out;
}

bool is_idempotent(http::verb v)
{
    switch (v) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::options:
    case http::verb::trace:
        return true;
    default:
        return false;
    }
}

bool is_malformed(const error_code& ec)
{
    static const auto& http_category = make_error_code(http::error::end_of_stream).category();
    return ec.category() == http_category && ec != http::error::end_of_stream &&
           ec != http::error::partial_message;
}

} // namespace

/**
 * Shared state of an http_client; kept alive by every send() in flight. Bound to no executor: used from
 * any thread at once (options immutable, the pool locks, the TLS context is built under call_once).
 */
class client_impl
{
public:
    client_impl(net::any_io_executor ex, options opts)
        : ex_(std::move(ex))
        , opts_(std::move(opts))
        , pool_(opts_.max_idle_per_host, opts_.idle_ttl)
    {}

    const options& opts() const noexcept { return opts_; }
    connection_pool& pool() noexcept { return pool_; }

    std::shared_ptr<connection> make_connection(const request_target& t)
    {
        // Its own strand: the exchange and its watchdog never run concurrently, whatever executor
        // (and however many threads) the caller uses.
        auto strand = net::make_strand(ex_);
        if (!t.tls)
            return make_plain_connection(std::move(strand));
        return make_tls_connection(std::move(strand), tls_context(), t.host);
    }

private:
    // Built on first https:// use: loading the system CA bundle is not free.
    std::shared_ptr<ssl::context> tls_context()
    {
        std::call_once(tls_once_, [this] {
            if (opts_.tls) {
                tls_ = opts_.tls;
                return;
            }
            auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
            ctx->set_default_verify_paths();
            ctx->set_verify_mode(ssl::verify_peer);
            SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
            tls_ = std::move(ctx);
        });
        return tls_;
    }

    net::any_io_executor ex_;
    const options opts_;
    std::once_flag tls_once_;
    std::shared_ptr<ssl::context> tls_; // written once, under tls_once_
    connection_pool pool_;
};

namespace {

[[noreturn]] void
throw_failure(const attempt_outcome& out, const request_target& t, const request& req)
{
    const std::string prefix = std::string(http::to_string(req.method)) + " " + t.display + ": ";
    const auto& ec = out.ec;
    // Bytes of the request reached the server: it may have acted on them.
    const bool sent = out.where == phase::read || (out.where == phase::write && out.written > 0);
    if (out.timed_out) {
        const char* during = out.where == phase::read    ? "waiting for the response"
                             : out.where == phase::write ? "sending the request"
                                                         : "connecting";
        throw error(error_kind::timeout, prefix + "timed out " + during, ec, sent);
    }
    switch (out.where) {
    case phase::resolve:
        throw error(error_kind::unreachable, prefix + "cannot resolve host: " + ec.message(), ec, sent);
    case phase::connect:
        throw error(error_kind::unreachable, prefix + "cannot connect: " + ec.message(), ec, sent);
    case phase::handshake:
        if (!out.certificate_problem.empty())
            throw error(
                error_kind::unreachable,
                prefix + "TLS certificate rejected: " + out.certificate_problem,
                ec
            );
        throw error(error_kind::unreachable, prefix + "TLS handshake failed: " + ec.message(), ec, sent);
    case phase::write:
        throw error(
            error_kind::unreachable, prefix + "sending the request failed: " + ec.message(), ec, sent);
    case phase::read:
    case phase::done:
        break;
    }
    if (ec == http::error::body_limit)
        throw error(error_kind::bad_response, prefix + "response body over the limit", ec, sent);
    if (is_malformed(ec))
        throw error(error_kind::bad_response, prefix + "malformed response: " + ec.message(), ec, sent);
    if (ec == http::error::end_of_stream)
        throw error(error_kind::unreachable, prefix + "connection closed before the response", ec, sent);
    throw error(
        error_kind::unreachable, prefix + "reading the response failed: " + ec.message(), ec, sent);
}

} // namespace
} // namespace detail

http_client::http_client(net::any_io_executor ex, options opts)
    : impl_(std::make_shared<detail::client_impl>(std::move(ex), std::move(opts)))
{}

http_client::~http_client() = default;

void http_client::close_idle()
{
    impl_->pool().clear();
}

std::size_t http_client::idle_connections() const
{
    return impl_->pool().size();
}

net::awaitable<response> http_client::send(request req)
{
    using namespace detail;
    // Copied first: nothing below touches `this`, so the client may go away mid-request.
    const auto impl = impl_;
    const auto& opts = impl->opts();
    auto in = std::make_shared<attempt_input>();
    in->target = std::make_shared<const request_target>(parse_target(req.url));
    in->msg =
        std::make_shared<const request_message>(build_message(req, *in->target, opts.user_agent));
    in->body_limit = opts.body_limit;
    const auto timeout = req.timeout.value_or(opts.request_timeout);
    in->deadline = clock::now() + timeout;
    const bool idempotent = req.idempotent.value_or(is_idempotent(req.method));

    for (int attempt = 1;; ++attempt) {
        // A retry always goes out on a new connection.
        in->conn = attempt == 1 ? impl->pool().acquire(in->target->pool_key, !idempotent) : nullptr;
        in->fresh = !in->conn;
        if (in->fresh)
            in->conn = impl->make_connection(*in->target);
        in->connect_deadline = std::min(in->deadline, clock::now() + opts.connect_timeout);

        auto exchange = run_attempt(in);
        attempt_outcome out =
            co_await net::co_spawn(in->conn->executor(), std::move(exchange), net::use_awaitable);
        if (!out.ec) {
            if (out.reusable)
                impl->pool().release(in->target->pool_key, std::move(in->conn));
            co_return std::move(out.res);
        }
        in->conn.reset();
        if (out.ec == net::error::operation_aborted && !out.timed_out)
            throw boost::system::system_error(out.ec); // the caller cancelled us

        // Only a failure of an established connection can be transient; and only an idempotent
        // request, or one of which not a byte was written, may be sent twice.
        const bool connection_level =
            out.where == phase::write || (out.where == phase::read && !is_malformed(out.ec) &&
                                          out.ec != http::error::body_limit);
        const bool safe = idempotent || (out.where == phase::write && out.written == 0);
        if (attempt == 1 && !out.timed_out && connection_level && safe &&
            clock::now() < in->deadline) {
            log::debug(
                "http_client.retry", {{"target", in->target->display}, {"error", out.ec.message()}}
            );
            continue;
        }
        throw_failure(out, *in->target, req);
    }
}

} // namespace common::client
