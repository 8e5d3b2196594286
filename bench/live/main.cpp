// mb-live: fan-out benchmark of a live event stream. Opens many WebSockets to one target, either the
// gateway's GET /v1/events (members' tokens) or the baseline relay of bench/live/relay (/?home=H, no
// token), then sends signed events into webhook-ingest at a fixed rate, each carrying its send time, and
// measures how long each event takes to reach every stream (send → webhook-ingest → PostgreSQL → Redis →
// target → client). Both targets are fed by the same ingest and measured by the same client.
// Prints figures; asserts nothing.

#include "histogram.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
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

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ws_stream = beast::websocket::stream<beast::tcp_stream>;
using clock_type = std::chrono::steady_clock;

namespace {

enum class target_kind { gateway, relay };

struct options
{
    target_kind target = target_kind::gateway;
    unsigned short gateway_port = 0;
    unsigned short relay_port = 0;
    unsigned short ingest_port = 0;
    std::string tokens_file;
    std::size_t streams = 100;
    std::int64_t home = 0;
    double rate = 100;
    double duration_s = 10;
    double drain_s = 5;
    std::string sign_key;
    std::string sign_url;
    std::string ingest_path = "/v1/mode/events";
    std::size_t threads = 1;
    std::size_t senders = 0; // 0: chosen from the rate
    std::size_t connect_concurrency = 200;
    unsigned connect_attempts = 5;
    double open_timeout_s = 300;
    bool idle = false;
    double hold_s = 5;
    int watch_pid = 0;
    bool json_out = false;
};

[[noreturn]] void usage(const std::string& why)
{
    std::cerr
        << "mb-live: " << why << "\n"
        << "usage: mb-live [--target gateway] --gateway-port P --tokens FILE    (streams: GET /v1/events)\n"
           "       mb-live --target relay --relay-port P                      (streams: /?home=ID, no token)\n"
           "  then --home ID and either\n"
           "       --ingest-port P --sign-key KEY --sign-url URL [--rate EVENTS_PER_S] [--duration S] [--drain S]\n"
           "       [--senders N] [--watch-pid PID] [--json]\n"
           "  or   --idle [--hold S] [--json]   (open the streams, print how many are open, hold them S seconds)\n"
           "  common: [--streams N] [--threads N] [--connect-concurrency N] [--connect-attempts N]\n"
           "          [--open-timeout S]\n";
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
        if (a == "--idle") {
            o.idle = true;
            continue;
        }
        if (a == "--help" || a == "-h")
            usage("help");
        if (i + 1 >= argc)
            usage(a + " needs a value");
        kv[a] = argv[++i];
    }
    try {
        auto port = [](const std::string& v) {
            auto p = std::stoi(v);
            if (p <= 0 || p > 65535)
                throw std::invalid_argument("port");
            return static_cast<unsigned short>(p);
        };
        for (const auto& [k, v] : kv) {
            if (k == "--target") {
                if (v == "gateway")
                    o.target = target_kind::gateway;
                else if (v == "relay")
                    o.target = target_kind::relay;
                else
                    usage("--target: gateway or relay");
            } else if (k == "--gateway-port")
                o.gateway_port = port(v);
            else if (k == "--relay-port")
                o.relay_port = port(v);
            else if (k == "--ingest-port")
                o.ingest_port = port(v);
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
            else if (k == "--drain")
                o.drain_s = std::stod(v);
            else if (k == "--sign-key")
                o.sign_key = v;
            else if (k == "--sign-url")
                o.sign_url = v;
            else if (k == "--ingest-path")
                o.ingest_path = v;
            else if (k == "--threads")
                o.threads = std::stoul(v);
            else if (k == "--senders")
                o.senders = std::stoul(v);
            else if (k == "--connect-concurrency")
                o.connect_concurrency = std::stoul(v);
            else if (k == "--connect-attempts")
                o.connect_attempts = static_cast<unsigned>(std::stoul(v));
            else if (k == "--open-timeout")
                o.open_timeout_s = std::stod(v);
            else if (k == "--hold")
                o.hold_s = std::stod(v);
            else if (k == "--watch-pid")
                o.watch_pid = std::stoi(v);
            else
                usage("unknown option " + k);
        }
    } catch (const std::exception&) {
        usage("a value is not a valid number");
    }
    if (o.home <= 0 || o.streams == 0 || o.threads == 0 || o.threads > 64 || o.connect_concurrency == 0 ||
        o.connect_attempts == 0 || o.open_timeout_s <= 0 || o.hold_s < 0)
        usage("missing or invalid options");
    if (o.target == target_kind::gateway && (o.gateway_port == 0 || o.tokens_file.empty()))
        usage("--target gateway needs --gateway-port and --tokens");
    if (o.target == target_kind::relay && o.relay_port == 0)
        usage("--target relay needs --relay-port");
    if (!o.idle && (o.ingest_port == 0 || o.sign_key.empty() || o.sign_url.empty() || o.rate <= 0 ||
                    o.duration_s <= 0 || o.drain_s < 0))
        usage("sending events needs --ingest-port, --sign-key, --sign-url and a positive --rate and --duration");
    if (o.senders == 0)
        o.senders = std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(o.rate / 50)), 4, 64);
    return o;
}

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

// State shared by every thread: counters only (atomics); the rest belongs to one worker.
struct shared_state
{
    std::atomic<std::size_t> next_stream{0};
    std::atomic<std::size_t> ready{0};
    std::atomic<std::size_t> failed{0};
    std::atomic<std::size_t> closed_early{0};
    std::atomic<std::uint64_t> retries{0};
    std::atomic<bool> stopping{false};
    std::int64_t run_id = 0;
};

// One single-threaded io_context with its share of the streams. Its histogram and failure counts are
// touched only by its own thread, and read after that thread has joined.
struct worker
{
    net::io_context ioc{1};
    net::executor_work_guard<net::io_context::executor_type> guard{ioc.get_executor()};
    std::thread thread;
    bench::load::histogram latency;
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> other_frames{0};
    std::atomic<std::int64_t> last_delivery_ns{0};
    std::map<std::string, std::size_t> failures; // why a stream could not open (last attempt)
    std::map<std::string, std::size_t> closes;   // why an open stream ended before the run did
};

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

// Opens streams one after another (taking the next index from the shared counter), each with a few
// attempts; `--connect-concurrency` of these run at once across the workers.
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

struct send_totals
{
    std::uint64_t sent = 0;
    std::uint64_t errors = 0;
};

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

// What /proc says of the process being measured: RSS in kB, and CPU time (user + system) in seconds.
struct proc_sample
{
    long rss_kb = -1;
    double cpu_s = -1;
};

proc_sample sample(int pid)
{
    proc_sample p;
    if (pid <= 0)
        return p;
    std::string base = "/proc/" + std::to_string(pid);
    std::ifstream status(base + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            p.rss_kb = std::stol(line.substr(6));
    std::ifstream stat_file(base + "/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(stat.substr(close + 2));
        std::vector<std::string> f;
        for (std::string x; fields >> x && f.size() < 13;)
            f.push_back(x);
        // Fields 14 and 15 of stat(5), utime and stime, are the 12th and 13th after the name.
        if (f.size() == 13)
            p.cpu_s = static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) /
                      static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    return p;
}

double self_cpu_s()
{
    return sample(static_cast<int>(getpid())).cpu_s;
}

json::object reasons_json(const std::map<std::string, std::size_t>& m)
{
    json::object out;
    for (const auto& [k, v] : m)
        out[k] = v;
    return out;
}

std::string reasons_text(const std::map<std::string, std::size_t>& m)
{
    std::string out;
    for (const auto& [k, v] : m)
        out += (out.empty() ? "" : ", ") + std::to_string(v) + " × " + k;
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    auto o = parse(argc, argv);
    std::vector<std::string> tokens;
    if (o.target == target_kind::gateway) {
        std::ifstream in(o.tokens_file);
        for (std::string line; std::getline(in, line);)
            if (!line.empty())
                tokens.push_back(line);
        if (tokens.empty())
            usage("no tokens in " + o.tokens_file);
    }

    shared_state s;
    s.run_id = static_cast<std::int64_t>(std::random_device{}() & 0x7fffffff) * 1000 + (now_ns() / 1000 % 1000);
    auto before = sample(o.watch_pid);
    // Descriptors kept back while the streams open, freed once they are: opening streams up to the
    // process's open-file limit must leave some for the senders' connections and the /proc reads.
    std::vector<int> reserved;
    for (int k = 0; k < 64; ++k)
        if (int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC); fd >= 0)
            reserved.push_back(fd);

    // Open the streams: `connect_concurrency` openers spread over the workers.
    std::vector<std::unique_ptr<worker>> workers;
    for (std::size_t k = 0; k < o.threads; ++k)
        workers.push_back(std::make_unique<worker>());
    for (std::size_t k = 0; k < std::min(o.connect_concurrency, o.streams); ++k) {
        auto& w = *workers[k % workers.size()];
        net::co_spawn(w.ioc, opener(o, tokens, s, w), net::detached);
    }
    for (auto& w : workers)
        w->thread = std::thread([&ioc = w->ioc] { ioc.run(); });
    auto open_started = clock_type::now();
    auto open_deadline = open_started + std::chrono::nanoseconds(static_cast<std::int64_t>(o.open_timeout_s * 1e9));
    while (s.ready.load() + s.failed.load() < o.streams && clock_type::now() < open_deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto open_s = seconds_since(open_started);
    std::size_t open = s.ready.load();
    for (int fd : reserved)
        ::close(fd);

    auto finish = [&] {
        s.stopping = true;
        for (auto& w : workers) {
            w->guard.reset();
            w->ioc.stop();
        }
        for (auto& w : workers)
            w->thread.join();
    };
    std::map<std::string, std::size_t> failures, closes;
    auto merge_reasons = [&] {
        for (auto& w : workers) {
            for (const auto& [k, v] : w->failures)
                failures[k] += v;
            for (const auto& [k, v] : w->closes)
                closes[k] += v;
        }
    };

    if (o.idle) {
        // Only the count of open streams, at once, so the caller can read the target's memory meanwhile.
        if (o.json_out)
            std::cout << json::serialize(json::object{{"streams_open", open}}) << std::endl;
        else
            std::cout << open << " streams open" << std::endl;
        std::this_thread::sleep_for(std::chrono::nanoseconds(static_cast<std::int64_t>(o.hold_s * 1e9)));
        finish();
        return 0;
    }

    // The target's memory with every stream open, after a moment to settle.
    proc_sample opened;
    if (o.watch_pid > 0) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        opened = sample(o.watch_pid);
    }

    // Send: the senders share one io_context on this thread.
    net::io_context send_ioc(1);
    std::vector<send_totals> sends(o.senders);
    auto cpu_before = sample(o.watch_pid);
    auto self_before = self_cpu_s();
    auto started = clock_type::now();
    auto started_ns = now_ns();
    auto until = started + std::chrono::nanoseconds(static_cast<std::int64_t>(o.duration_s * 1e9));
    for (std::size_t k = 0; k < o.senders; ++k)
        net::co_spawn(send_ioc,
                      sender(o, s, o.rate / static_cast<double>(o.senders), until, sends[k], static_cast<std::int64_t>(k),
                             static_cast<std::int64_t>(o.senders)),
                      [&t = sends[k]](std::exception_ptr e) {
                          if (e) // a sender that could not even start: counted, not hidden
                              ++t.errors;
                      });
    send_ioc.run();
    auto sent_for = seconds_since(started);
    send_totals t;
    for (const auto& x : sends) {
        t.sent += x.sent;
        t.errors += x.errors;
    }

    // Let the last events arrive, for at most --drain seconds.
    std::uint64_t expected = t.sent * open;
    auto drain_until = clock_type::now() + std::chrono::nanoseconds(static_cast<std::int64_t>(o.drain_s * 1e9));
    auto received_so_far = [&] {
        std::uint64_t n = 0;
        for (const auto& w : workers)
            n += w->received.load(std::memory_order_relaxed);
        return n;
    };
    while (received_so_far() < expected && clock_type::now() < drain_until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto run_s = seconds_since(started);
    auto cpu_after = sample(o.watch_pid);
    auto self_after = self_cpu_s();
    finish();
    merge_reasons();

    bench::load::histogram latency;
    for (const auto& w : workers)
        latency.merge(w->latency);
    std::uint64_t received = 0, other_frames = 0;
    std::int64_t last_delivery_ns = 0;
    for (const auto& w : workers) {
        received += w->received.load();
        other_frames += w->other_frames.load();
        last_delivery_ns = std::max(last_delivery_ns, w->last_delivery_ns.load());
    }
    std::uint64_t missing = expected > received ? expected - received : 0;
    // The sending window: the scheduled duration, or longer when the ingest answered late. Deliveries per
    // second held: over that window, or up to the last delivery if later (the drain counts when the
    // target fell behind, so a target that cannot keep up shows the rate it did deliver).
    double window = std::max(o.duration_s, sent_for);
    double delivery_window = static_cast<double>(last_delivery_ns - started_ns) / 1e9;
    double held = static_cast<double>(received) / std::max(window, delivery_window);
    double target_per_s = static_cast<double>(o.streams) * o.rate;
    auto ms = [&](double p) { return static_cast<double>(latency.percentile(p)) / 1e6; };
    double max_ms = static_cast<double>(latency.max()) / 1e6;
    double cpu_pct = cpu_before.cpu_s >= 0 && cpu_after.cpu_s >= 0 ? (cpu_after.cpu_s - cpu_before.cpu_s) / run_s * 100
                                                                   : -1;
    double self_pct = self_before >= 0 && self_after >= 0 ? (self_after - self_before) / run_s * 100 : -1;

    if (o.json_out) {
        json::object out{{"target", o.target == target_kind::gateway ? "gateway" : "relay"},
                         {"streams", o.streams},
                         {"streams_open", open},
                         {"failed_streams", s.failed.load()},
                         {"connect_retries", s.retries.load()},
                         {"open_s", open_s},
                         {"closed_early", s.closed_early.load()},
                         {"events_sent", t.sent},
                         {"send_errors", t.errors},
                         {"send_s", sent_for},
                         {"events_per_s", static_cast<double>(t.sent) / window},
                         {"target_deliveries_per_s", target_per_s},
                         {"deliveries_expected", expected},
                         {"deliveries", received},
                         {"deliveries_missing", missing},
                         {"deliveries_per_s", held},
                         {"other_frames", other_frames},
                         {"latency_ms", {{"p50", ms(50)}, {"p90", ms(90)}, {"p99", ms(99)}, {"max", max_ms}}},
                         {"client_cpu_percent", self_pct},
                         {"failures", reasons_json(failures)},
                         {"closes", reasons_json(closes)}};
        if (o.watch_pid > 0) {
            out["rss_before_kb"] = before.rss_kb;
            out["rss_open_kb"] = opened.rss_kb;
            out["rss_end_kb"] = cpu_after.rss_kb;
            out["cpu_percent"] = cpu_pct;
        }
        std::cout << json::serialize(out) << "\n";
    } else {
        std::printf("%zu of %zu streams open in %.1f s (%zu failed, %llu retries, %zu closed early)\n", open, o.streams,
                    open_s, s.failed.load(), static_cast<unsigned long long>(s.retries.load()), s.closed_early.load());
        if (!failures.empty())
            std::printf("  could not open: %s\n", reasons_text(failures).c_str());
        if (!closes.empty())
            std::printf("  closed early: %s\n", reasons_text(closes).c_str());
        std::printf("%llu events sent in %.1f s (%.0f/s, %llu errors)\n", static_cast<unsigned long long>(t.sent),
                    sent_for, static_cast<double>(t.sent) / window, static_cast<unsigned long long>(t.errors));
        std::printf("deliveries: %llu of %llu expected, %llu missing; %.0f/s held (target %.0f/s)\n",
                    static_cast<unsigned long long>(received), static_cast<unsigned long long>(expected),
                    static_cast<unsigned long long>(missing), held, target_per_s);
        std::printf("send → client latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", ms(50), ms(90),
                    ms(99), max_ms);
        if (o.watch_pid > 0)
            std::printf("target: RSS %ld kB before, %ld kB with the streams open, %ld kB at the end; CPU %.0f %%\n",
                        before.rss_kb, opened.rss_kb, cpu_after.rss_kb, cpu_pct);
        std::printf("mb-live's own CPU: %.0f %%\n", self_pct);
    }
    return 0;
}
