#include "streams.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <utility>

namespace mblive {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ws_stream = beast::websocket::stream<beast::tcp_stream>;

// Wall-clock nanoseconds: the send time travels inside the event, so both ends must use the same clock.
std::int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double seconds_since(clock_type::time_point t)
{
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

namespace {

// The integer following `"name":` in a serialized frame, if any.
std::optional<std::int64_t> int_field(std::string_view frame, std::string_view quoted_name_colon)
{
    auto at = frame.find(quoted_name_colon);
    if (at == std::string_view::npos)
        return std::nullopt;
    const char* first = frame.data() + at + quoted_name_colon.size();
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(first, frame.data() + frame.size(), v);
    if (ec != std::errc())
        return std::nullopt;
    return v;
}

std::string close_reason(const ws_stream& ws, const boost::system::error_code& ec)
{
    if (ec == beast::websocket::error::closed)
        return "closed " + std::to_string(ws.reason().code);
    return ec.message();
}

// Reads an open stream until it ends: every event of this run counts as one delivery.
net::awaitable<void> read_stream(std::unique_ptr<ws_stream> ws, shared_state& s, worker& w)
{
    beast::flat_buffer buf;
    try {
        for (;;) {
            co_await ws->async_read(buf, net::use_awaitable);
            auto received_at = now_ns();
            auto data = buf.cdata();
            std::string_view frame(static_cast<const char*>(data.data()), data.size());
            // The two numbers are found without parsing the whole frame: the client shares the machine.
            auto sent = int_field(frame, "\"sentAtNs\":");
            if (sent && int_field(frame, "\"run\":") == s.run_id) {
                w.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, received_at - *sent)));
                w.received.fetch_add(1, std::memory_order_relaxed);
                w.last_delivery_ns.store(received_at, std::memory_order_relaxed);
            } else {
                w.other_frames.fetch_add(1, std::memory_order_relaxed);
            }
            buf.consume(buf.size());
        }
    } catch (const boost::system::system_error& e) {
        if (!s.stopping.load()) {
            s.closed_early.fetch_add(1);
            ++w.closes[close_reason(*ws, e.code())];
        }
    }
}

// One attempt at opening stream `index`: connect, handshake, and read up to its `ready` frame.
net::awaitable<std::unique_ptr<ws_stream>> open_stream(const options& o, const std::vector<std::string>& tokens,
                                                       std::size_t index, std::string& why)
{
    auto ws = std::make_unique<ws_stream>(co_await net::this_coro::executor);
    auto& tcp_layer = beast::get_lowest_layer(*ws);
    bool gateway = o.target == target_kind::gateway;
    // Until `ready`: then the stream has no deadline (beast's websocket timeouts are off by default).
    tcp_layer.expires_after(std::chrono::seconds(30));
    why = "connect";
    co_await tcp_layer.async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), gateway ? o.gateway_port : o.relay_port), net::use_awaitable);
    if (gateway) {
        std::string auth = "Bearer " + tokens[index % tokens.size()];
        ws->set_option(beast::websocket::stream_base::decorator(
            [auth](beast::websocket::request_type& req) { req.set(http::field::authorization, auth); }));
    }
    ws->read_message_max(1 << 20);
    why = "handshake";
    // A named local: GCC 12 mishandles a temporary of a conditional expression held across co_await.
    std::string path = "/v1/events";
    if (!gateway)
        path = "/?home=" + std::to_string(o.home);
    co_await ws->async_handshake("127.0.0.1", path, net::use_awaitable);
    why = "ready";
    beast::flat_buffer buf;
    for (;;) {
        boost::system::error_code ec;
        co_await ws->async_read(buf, net::redirect_error(net::use_awaitable, ec));
        if (ec == beast::websocket::error::closed) {
            why = "ready: " + close_reason(*ws, ec);
            co_return nullptr;
        }
        if (ec)
            throw boost::system::system_error(ec);
        auto data = buf.cdata();
        bool is_ready = std::string_view(static_cast<const char*>(data.data()), data.size()).starts_with("{\"type\":\"ready\"");
        buf.consume(buf.size());
        if (is_ready)
            break;
    }
    tcp_layer.expires_never();
    co_return ws;
}

} // namespace

net::awaitable<void> opener(const options& o, const std::vector<std::string>& tokens, shared_state& s, worker& w)
{
    net::steady_timer backoff(co_await net::this_coro::executor);
    std::minstd_rand jitter(static_cast<unsigned>(now_ns()));
    for (;;) {
        auto index = s.next_stream.fetch_add(1);
        if (index >= o.streams || s.stopping.load())
            co_return;
        std::unique_ptr<ws_stream> ws;
        std::string why;
        for (unsigned attempt = 0; attempt < o.connect_attempts && !ws; ++attempt) {
            if (attempt > 0) {
                s.retries.fetch_add(1);
                auto ms = (100 << std::min(attempt - 1, 5u)) + static_cast<int>(jitter() % 100);
                backoff.expires_after(std::chrono::milliseconds(ms));
                co_await backoff.async_wait(net::use_awaitable);
            }
            try {
                ws = co_await open_stream(o, tokens, index, why);
            } catch (const boost::system::system_error& e) {
                why += ": " + e.code().message();
            } catch (const std::exception& e) {
                why += std::string(": ") + e.what();
            }
        }
        if (!ws) {
            s.failed.fetch_add(1);
            ++w.failures[why];
            continue;
        }
        s.ready.fetch_add(1);
        net::co_spawn(w.ioc, read_stream(std::move(ws), s, w), net::detached);
    }
}

// Sends events on one keep-alive connection at `rate` per second until `until`, reconnecting after an error.
net::awaitable<void> sender(const options& o, const shared_state& s, double rate, clock_type::time_point until,
                            send_totals& t, std::int64_t first, std::int64_t step)
{
    auto ex = co_await net::this_coro::executor;
    net::steady_timer pace(ex);
    auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate));
    // Spread the senders' schedules over one interval.
    auto next = clock_type::now() + interval * first / step;
    beast::flat_buffer buf;
    std::optional<beast::tcp_stream> conn;
    for (std::int64_t i = first; next < until; i += step) {
        pace.expires_at(next);
        co_await pace.async_wait(net::use_awaitable);
        next += interval;
        try {
            if (!conn) {
                conn.emplace(ex);
                buf.clear();
                conn->expires_after(std::chrono::seconds(10));
                co_await conn->async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), o.ingest_port),
                                             net::use_awaitable);
            }
            json::object body{{"homeId", o.home},
                              {"eventType", "bench"},
                              {"timestamp", "2026-11-30T00:00:00.000Z"},
                              {"eventData", {{"sentAtNs", now_ns()}, {"run", s.run_id}, {"i", i}}}};
            http::request<http::string_body> req{http::verb::post, o.ingest_path, 11};
            req.set(http::field::host, "127.0.0.1");
            req.set(http::field::content_type, "application/json");
            req.body() = json::serialize(body);
            req.set("X-Mode-Signature", common::crypto::hmac_sha256_hex(o.sign_key, o.sign_url + req.body()));
            req.prepare_payload();
            conn->expires_after(std::chrono::seconds(10));
            co_await http::async_write(*conn, req, net::use_awaitable);
            http::response<http::string_body> res;
            co_await http::async_read(*conn, buf, res, net::use_awaitable);
            if (res.result_int() / 100 == 2)
                ++t.sent;
            else
                ++t.errors;
            if (!res.keep_alive())
                conn.reset();
        } catch (const boost::system::system_error&) {
            ++t.errors;
            conn.reset();
        }
    }
}

} // namespace mblive
