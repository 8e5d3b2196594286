#pragma once

// Private to the server: state shared by the acceptor and the connection sessions.

#include "common/metrics.hpp"
#include "common/web/problem.hpp"
#include "common/web/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace boost::asio::ssl {
template <typename Stream>
class stream;
} // namespace boost::asio::ssl

namespace common::web {

/** One open connection, as the server sees it. Fields are touched only on the session's strand. */
struct session_state
{
    net::any_io_executor strand;
    std::size_t shard = 0;       // which of server_options::shards the strand is (0 without shards)
    bool idle = false;           // waiting for the first byte of the next request
    bool websocket = false;      // upgraded: shutdown closes it at once (1001), not after the grace period
    boost::asio::ip::address peer; // the TCP peer, for server_options::connections_per_address
    bool over_address_limit = false; // its first request is answered 429 and the connection closed
    /** Closes the socket; set while the session runs. A WebSocket's first call starts the 1001 closing
        handshake instead, later calls close the socket. */
    std::function<void()> close;
};

namespace detail {
/** Clears the session's close hook when the coroutine frame that owns the stream goes away. */
struct close_hook_guard
{
    session_state& st;
    ~close_hook_guard() { st.close = nullptr; }
};
} // namespace detail

/** An accepted upgrade, handed from the HTTP session to the WebSocket session with the stream. */
struct upgrade_request
{
    request req;
    request_context ctx;  // ctx.websocket is the endpoint
    response res;         // the handler's 101: its headers go onto the handshake response
};

struct server::impl : std::enable_shared_from_this<server::impl>
{
    impl(net::io_context& ioc, boost::asio::ip::tcp::endpoint ep, server_options o, handler hd,
         std::shared_ptr<metrics::registry> m);

    net::awaitable<void> accept_loop();
    /** Runs the handler; turns exceptions into problem responses. */
    net::awaitable<response> invoke(request& req, request_context& ctx);
    /** Logs and counts one answered request. */
    void record(const request& req, const request_context& ctx, unsigned status);

    void add_session(std::uint64_t id, std::shared_ptr<session_state> s);
    void remove_session(std::uint64_t id);

    net::io_context& ioc;
    boost::asio::strand<net::io_context::executor_type> accept_strand;
    std::vector<net::any_io_executor> shard_strands; // server_options::shards of them
    std::size_t next_shard = 0;                      // on accept_strand
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::ip::tcp::endpoint listen_endpoint;
    server_options opts;
    handler h;
    std::shared_ptr<metrics::registry> metrics;
    metrics::gauge* open_connections = nullptr;
    metrics::gauge* open_websockets = nullptr;
    std::atomic<bool> stopping{false};

    mutable std::mutex mutex;
    std::shared_ptr<ssl::context> tls; // what new TLS connections use (under mutex): opts.tls, then reloads
    std::shared_ptr<ssl::context> current_tls() const
    {
        std::lock_guard lock(mutex);
        return tls;
    }

    static inline const std::string unmatched_route = "unmatched";
    std::mutex metrics_mutex;
    std::unordered_map<std::string, std::pair<metrics::counter*, metrics::histogram*>> metric_handles;
    std::unordered_map<std::uint64_t, std::shared_ptr<session_state>> sessions;
    std::map<boost::asio::ip::address, std::size_t> per_address; // open connections by peer (under mutex)
    std::uint64_t next_session_id = 0;
};

/** An upgraded connection, handed over by the HTTP session (whose coroutine then ends, its frame and
    buffers freed) to the WebSocket session. */
template <class Stream>
struct ws_handoff
{
    Stream stream;
    upgrade_request up;
};
using plain_handoff = ws_handoff<boost::asio::ip::tcp::socket>; // the bare socket: Beast's WebSocket has its own timers
using tls_handoff = ws_handoff<boost::asio::ssl::stream<beast::tcp_stream>>;

// One translation unit each, so the plain and TLS stream templates are compiled separately. A session
// serves HTTP requests; when a handler accepts a WebSocket upgrade it returns the connection instead,
// and the accept loop starts the WebSocket side on the same strand (ws_plain.cpp, ws_tls.cpp): the
// handshake, the endpoint, the close.
net::awaitable<std::optional<plain_handoff>> run_plain_session(std::shared_ptr<server::impl> srv,
                                                               std::shared_ptr<session_state> st,
                                                               boost::asio::ip::tcp::socket socket);
net::awaitable<std::optional<tls_handoff>> run_tls_session(std::shared_ptr<server::impl> srv,
                                                           std::shared_ptr<session_state> st,
                                                           boost::asio::ip::tcp::socket socket);
net::awaitable<void> run_plain_websocket(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st,
                                         plain_handoff h);
net::awaitable<void> run_tls_websocket(std::shared_ptr<server::impl> srv, std::shared_ptr<session_state> st,
                                       tls_handoff h);

/** A request id: the client's `X-Request-Id` when it is sane, otherwise a fresh random one. */
std::string request_id_for(const request& req);

} // namespace common::web
