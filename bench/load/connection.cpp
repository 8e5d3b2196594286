#include "connection.hpp"

#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace bench::load {
namespace {

constexpr auto connect_backoff = std::chrono::milliseconds(100);
constexpr std::uint64_t response_body_limit = 64 * 1024 * 1024;

std::uint64_t nanoseconds_between(clock_type::time_point a, clock_type::time_point b)
{
    auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
    return d > 0 ? static_cast<std::uint64_t>(d) : 0;
}

bool is_closed_error(const boost::system::error_code& ec)
{
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::connection_aborted || ec == net::error::broken_pipe;
}

} // namespace

net::awaitable<void> connection::run(context ctx, std::size_t index)
{
    connection c(co_await net::this_coro::executor, ctx, index);
    co_await c.loop();
}

connection::connection(net::any_io_executor ex, context ctx, std::size_t index)
    : ctx_(ctx)
    , index_(index)
    , stream_(ex)
    , timer_(ex)
{}

bool connection::over() const noexcept
{
    return clock_type::now() >= ctx_.plan->end;
}

clock_type::time_point connection::deadline() const noexcept
{
    auto now = clock_type::now();
    // Against time_point::max() (--requests), now + timeout must not be computed blindly.
    if (ctx_.plan->end - now <= ctx_.opts->timeout)
        return ctx_.plan->end;
    return now + std::chrono::duration_cast<clock_type::duration>(ctx_.opts->timeout);
}

net::awaitable<void> connection::sleep_until(clock_type::time_point t)
{
    timer_.expires_at(std::min(t, ctx_.plan->end));
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<void> connection::loop()
{
    const auto& o = *ctx_.opts;
    const auto& plan = *ctx_.plan;
    // Open loop: this connection's share of the global schedule. Connection i sends at
    // start + i/R + k*C/R, so the C connections together send every 1/R seconds.
    const double per_second = o.rate.value_or(1.0);
    const double offset_ns = static_cast<double>(index_) * 1e9 / per_second;
    const double interval_ns = static_cast<double>(o.connections) * 1e9 / per_second;
    std::uint64_t k = 0; // open loop: the next slot
    for (;; ++k) {
        clock_type::time_point scheduled{};
        if (o.rate) {
            double at = offset_ns + static_cast<double>(k) * interval_ns;
            scheduled = plan.start + std::chrono::nanoseconds(std::llround(at));
            if (scheduled >= plan.end)
                break;
            // Late (the previous answer came after this slot): send at once, latency still
            // counts from the slot, which is what avoids coordinated omission.
            if (scheduled > clock_type::now())
                co_await sleep_until(scheduled);
        }
        if (over() || !co_await ensure_connected())
            break;
        // Measured means sent after the warm-up: a server that cannot keep up with --rate is
        // still working off warm-up slots then, and their (growing) latencies are the truth.
        auto now = clock_type::now();
        bool measured = now >= plan.warm_end;
        if (measured && !ctx_.plan->take_ticket())
            break;
        auto pause = co_await exchange(o.rate ? scheduled : now, measured);
        if (pause.count() > 0)
            co_await sleep_until(std::min(plan.end, clock_type::now() + pause));
    }
    if (o.rate && !o.requests) {
        // Slots of this connection's schedule that fell before the end but were never sent.
        double window_ns = std::chrono::duration<double, std::nano>(plan.end - plan.start).count();
        double slots =
            window_ns > offset_ns ? std::ceil((window_ns - offset_ns) / interval_ns) : 0.0;
        auto total = static_cast<std::uint64_t>(slots);
        if (total > k)
            ctx_.stats->unsent += total - k;
    }
    close();
}

net::awaitable<bool> connection::ensure_connected()
{
    while (!open_) {
        if (over())
            co_return false;
        stream_.expires_at(deadline());
        auto [ec, ep] =
            co_await stream_.async_connect(ctx_.plan->endpoints, net::as_tuple(net::use_awaitable));
        bool measured = clock_type::now() >= ctx_.plan->warm_end;
        if (!ec) {
            boost::system::error_code ignored;
            // Each request is written whole: do not let Nagle hold back its last segment.
            stream_.socket().set_option(net::ip::tcp::no_delay(true), ignored);
            if (opened_before_ && measured)
                ++ctx_.stats->reconnects;
            open_ = opened_before_ = true;
            buffer_.clear();
            break;
        }
        close();
        if (over())
            co_return false;
        if (measured)
            ++ctx_.stats->errors_connect;
        // Refused connections fail at once; pause so a dead server is not hammered in a loop.
        co_await sleep_until(clock_type::now() + connect_backoff);
    }
    co_return true;
}

net::awaitable<std::chrono::seconds> connection::exchange(clock_type::time_point start, bool measured)
{
    const std::chrono::seconds no_pause{0};
    std::string_view bytes = ctx_.factory->next(scratch_);
    stream_.expires_at(deadline());
    auto [wec, written] =
        co_await net::async_write(stream_, net::buffer(bytes), net::as_tuple(net::use_awaitable));
    if (wec) {
        fail(wec, measured);
        co_return no_pause;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(response_body_limit);
    // A HEAD answer announces a body that never comes.
    if (ctx_.opts->method == "HEAD")
        parser.skip(true);
    auto [rec, read] =
        co_await http::async_read(stream_, buffer_, parser, net::as_tuple(net::use_awaitable));
    auto done = clock_type::now();
    if (rec) {
        fail(rec, measured);
        co_return no_pause;
    }
    ctx_.plan->answers.fetch_add(1, std::memory_order_relaxed);
    if (measured) {
        auto& s = *ctx_.stats;
        s.latency.record(nanoseconds_between(start, done));
        s.count_status(parser.get().result_int());
        s.last_answer = done;
    }
    if (!parser.get().keep_alive())
        close();
    const auto status = parser.get().result_int();
    if (!ctx_.opts->honor_retry_after || (status != 429 && status != 503))
        co_return no_pause;
    auto it = parser.get().find(http::field::retry_after);
    if (it == parser.get().end())
        co_return no_pause;
    try {
        co_return std::chrono::seconds(std::clamp(std::stol(std::string(it->value())), 0L, 3600L));
    } catch (const std::exception&) {
        co_return no_pause; // an HTTP date or garbage: not worth a pause in a benchmark
    }
}

void connection::fail(const boost::system::error_code& ec, bool measured)
{
    close();
    // Requests cut off by the end of the run are not failures.
    if (over() || !measured)
        return;
    auto& s = *ctx_.stats;
    if (ec == beast::error::timeout)
        ++s.errors_timeout;
    else if (is_closed_error(ec))
        ++s.errors_closed;
    else {
        ++s.errors_other;
        if (s.errors_other == 1)
            common::log::warn("load.request", {{"error", ec.message()}});
    }
}

void connection::close() noexcept
{
    boost::system::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
    open_ = false;
}

} // namespace bench::load
