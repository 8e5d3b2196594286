// mb-live: fan-out benchmark of the gateway's live stream. Opens many GET /v1/events WebSockets, then
// sends signed events into webhook-ingest at a fixed rate, each carrying its send time, and measures
// how long each event takes to reach every stream (send → webhook-ingest → PostgreSQL → Redis →
// gateway → client). Prints figures; asserts nothing.

#include "histogram.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;

namespace {

struct options
{
    unsigned short gateway_port = 0;
    unsigned short ingest_port = 0;
    std::string tokens_file;
    std::size_t streams = 100;
    std::int64_t home = 0;
    double rate = 100;
    double duration_s = 10;
    std::string sign_key;
    std::string sign_url;
    std::string ingest_path = "/v1/mode/events";
    bool json_out = false;
};

[[noreturn]] void usage(const std::string& why)
{
    std::cerr << "mb-live: " << why << "\n"
              << "usage: mb-live --gateway-port P --ingest-port P --tokens FILE --home ID --sign-key KEY\n"
                 "               --sign-url URL [--streams N] [--rate EVENTS_PER_S] [--duration S] [--json]\n";
    std::exit(2);
}

options parse(int argc, char** argv)
{
    options o;
    std::map<std::string, std::string> kv;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--json") {
            o.json_out = true;
            continue;
        }
        if (i + 1 >= argc)
            usage(a + " needs a value");
        kv[a] = argv[++i];
    }
    try {
        for (const auto& [k, v] : kv) {
            if (k == "--gateway-port")
                o.gateway_port = static_cast<unsigned short>(std::stoi(v));
            else if (k == "--ingest-port")
                o.ingest_port = static_cast<unsigned short>(std::stoi(v));
            else if (k == "--tokens")
                o.tokens_file = v;
            else if (k == "--streams")
                o.streams = std::stoul(v);
            else if (k == "--home")
                o.home = std::stoll(v);
            else if (k == "--rate")
                o.rate = std::stod(v);
            else if (k == "--duration")
                o.duration_s = std::stod(v);
            else if (k == "--sign-key")
                o.sign_key = v;
            else if (k == "--sign-url")
                o.sign_url = v;
            else if (k == "--ingest-path")
                o.ingest_path = v;
            else
                usage("unknown option " + k);
        }
    } catch (const std::exception&) {
        usage("a value is not a number");
    }
    if (o.gateway_port == 0 || o.ingest_port == 0 || o.tokens_file.empty() || o.home == 0 || o.sign_key.empty() ||
        o.sign_url.empty() || o.streams == 0 || o.rate <= 0 || o.duration_s <= 0)
        usage("missing or invalid options");
    return o;
}

std::int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct totals
{
    bench::load::histogram latency;
    std::size_t ready = 0;
    std::size_t failed_streams = 0;
    std::size_t closed_early = 0;
    std::uint64_t received = 0;
    std::uint64_t sent = 0;
    std::uint64_t send_errors = 0;
    bool sending_done = false;
};

net::awaitable<void> stream(const options& o, std::string token, totals& t)
{
    using ws_stream = beast::websocket::stream<beast::tcp_stream>;
    ws_stream ws(co_await net::this_coro::executor);
    try {
        co_await beast::get_lowest_layer(ws).async_connect(
            tcp::endpoint(net::ip::make_address("127.0.0.1"), o.gateway_port), net::use_awaitable);
        beast::get_lowest_layer(ws).expires_never();
        ws.set_option(beast::websocket::stream_base::decorator([token](beast::websocket::request_type& req) {
            req.set(http::field::authorization, "Bearer " + token);
        }));
        co_await ws.async_handshake("127.0.0.1", "/v1/events", net::use_awaitable);
    } catch (const std::exception&) {
        ++t.failed_streams;
        co_return;
    }
    beast::flat_buffer buf;
    bool ready = false;
    try {
        for (;;) {
            co_await ws.async_read(buf, net::use_awaitable);
            auto received_at = now_ns();
            auto v = json::parse(beast::buffers_to_string(buf.data()));
            buf.consume(buf.size());
            const auto& m = v.as_object();
            if (m.at("type").as_string() == "ready") {
                ready = true;
                ++t.ready;
                continue;
            }
            if (m.at("type").as_string() != "event")
                continue;
            const auto* data = m.at("eventData").as_object().if_contains("sentAtNs");
            if (data == nullptr || !data->is_int64())
                continue;
            ++t.received;
            t.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, received_at - data->get_int64())));
        }
    } catch (const std::exception&) {
        if (!t.sending_done)
            ++t.closed_early;
        if (!ready)
            ++t.failed_streams;
    }
}

// Sends events on one keep-alive connection at `rate` per second until `until`.
net::awaitable<void> sender(const options& o, double rate, std::chrono::steady_clock::time_point until, totals& t,
                            int first)
{
    beast::tcp_stream s(co_await net::this_coro::executor);
    co_await s.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), o.ingest_port), net::use_awaitable);
    net::steady_timer pace(co_await net::this_coro::executor);
    auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate));
    auto next = std::chrono::steady_clock::now();
    beast::flat_buffer buf;
    for (std::int64_t i = first; std::chrono::steady_clock::now() < until; i += 1'000'000) {
        pace.expires_at(next);
        co_await pace.async_wait(net::use_awaitable);
        next += interval;
        json::object body{{"homeId", o.home},
                          {"eventType", "bench"},
                          {"timestamp", "2026-11-30T00:00:00.000Z"},
                          {"eventData", {{"sentAtNs", now_ns()}, {"i", i}}}};
        http::request<http::string_body> req{http::verb::post, o.ingest_path, 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::content_type, "application/json");
        req.body() = json::serialize(body);
        req.set("X-Mode-Signature", common::crypto::hmac_sha256_hex(o.sign_key, o.sign_url + req.body()));
        req.prepare_payload();
        co_await http::async_write(s, req, net::use_awaitable);
        http::response<http::string_body> res;
        co_await http::async_read(s, buf, res, net::use_awaitable);
        if (res.result_int() == 204)
            ++t.sent;
        else
            ++t.send_errors;
    }
}

} // namespace

int main(int argc, char** argv)
{
    auto o = parse(argc, argv);
    std::vector<std::string> tokens;
    {
        std::ifstream in(o.tokens_file);
        for (std::string line; std::getline(in, line);)
            if (!line.empty())
                tokens.push_back(line);
    }
    if (tokens.empty())
        usage("no tokens in " + o.tokens_file);

    net::io_context ioc(1);
    totals t;
    for (std::size_t i = 0; i < o.streams; ++i)
        net::co_spawn(ioc, stream(o, tokens[i % tokens.size()], t), net::detached);
    // Every stream ready (or failed) before the first event.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (t.ready + t.failed_streams < o.streams && std::chrono::steady_clock::now() < deadline)
        ioc.run_for(std::chrono::milliseconds(10));

    const int senders = 4;
    auto started = std::chrono::steady_clock::now();
    auto until = started + std::chrono::nanoseconds(static_cast<std::int64_t>(o.duration_s * 1e9));
    int done = 0;
    for (int k = 0; k < senders; ++k)
        net::co_spawn(ioc, sender(o, o.rate / senders, until, t, k), [&](std::exception_ptr e) {
            ++done;
            if (e)
                ++t.send_errors;
        });
    while (done < senders)
        ioc.run_for(std::chrono::milliseconds(10));
    auto sent_for = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // Let the last events arrive.
    auto expected = t.sent * t.ready;
    auto drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (t.received < expected && std::chrono::steady_clock::now() < drain_until)
        ioc.run_for(std::chrono::milliseconds(10));
    t.sending_done = true;

    auto ms = [&](double p) { return static_cast<double>(t.latency.percentile(p)) / 1e6; };
    if (o.json_out) {
        json::object out{{"streams", o.streams},
                         {"ready", t.ready},
                         {"failed_streams", t.failed_streams},
                         {"closed_early", t.closed_early},
                         {"events_sent", t.sent},
                         {"send_errors", t.send_errors},
                         {"events_per_s", static_cast<double>(t.sent) / sent_for},
                         {"deliveries_expected", expected},
                         {"deliveries", t.received},
                         {"deliveries_per_s", static_cast<double>(t.received) / sent_for},
                         {"latency_ms",
                          {{"p50", ms(50)}, {"p90", ms(90)}, {"p99", ms(99)}, {"max", static_cast<double>(t.latency.max()) / 1e6}}}};
        std::cout << json::serialize(out) << "\n";
    } else {
        std::printf("%zu streams ready (%zu failed, %zu closed early); %llu events sent in %.1f s (%.0f/s, %llu errors)\n",
                    t.ready, t.failed_streams, t.closed_early, static_cast<unsigned long long>(t.sent), sent_for,
                    static_cast<double>(t.sent) / sent_for, static_cast<unsigned long long>(t.send_errors));
        std::printf("deliveries: %llu of %llu (%.0f/s); send → client latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                    static_cast<unsigned long long>(t.received), static_cast<unsigned long long>(expected),
                    static_cast<double>(t.received) / sent_for, ms(50), ms(90), ms(99),
                    static_cast<double>(t.latency.max()) / 1e6);
    }
    return 0;
}
