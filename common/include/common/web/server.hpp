#pragma once

#include "common/web/types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace common::web {

}
namespace common::metrics {
class registry;
}
namespace common::web {

struct server_options
{
    std::size_t header_limit = 16 * 1024; // request line and headers: larger is 431 HEADERS_TOO_LARGE
    std::size_t url_limit = 8 * 1024;     // the request target: longer is 414 URI_TOO_LONG
    std::size_t body_limit = 1024 * 1024;
    /** Connections open at once from one peer address (a proxy in front counts as one); past it, a new
        connection's first request is answered 429 TOO_MANY_CONNECTIONS_FROM_ADDRESS and it is closed.
        0: no limit. */
    std::size_t connections_per_address = 0;
    std::chrono::milliseconds header_timeout{10'000}; // from the first byte to the end of the headers
    std::chrono::milliseconds body_timeout{30'000};   // reading the body
    std::chrono::milliseconds write_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};   // keep-alive: between requests
    /** WebSocket: pinged after half of this without traffic, dropped after all of it (websocket.hpp). */
    std::chrono::milliseconds ws_idle_timeout{60'000};
    /** WebSocket: a frame not fully written within this (the peer stopped reading) cuts the connection. */
    std::chrono::milliseconds ws_write_timeout{10'000};
    /** WebSocket: the largest message accepted from the peer; a larger one closes with 1009. */
    std::size_t ws_message_limit = 64 * 1024;
    /** 0: each connection on a strand of its own. N: connections spread round-robin over N strands
        (their handlers serialised per shard, as with an io_context per thread), so that a fan-out feeds
        each shard once per message instead of each connection (ws_connection::shard). */
    std::size_t shards = 0;
    /** Serve TLS with this context; null serves plain HTTP. */
    std::shared_ptr<ssl::context> tls;
};

/**
 * An HTTP/1.1 server: accepts connections, runs each as a coroutine on its own strand, reads requests
 * within the header/body limits and timeouts, calls the handler, and writes the answer, keeping the
 * connection alive when the client wants it. Every response carries `X-Request-Id`; every request is
 * logged once and counted in the metrics.
 *
 * WebSocket routes (router::add_websocket): when the handler answers an upgrade with 101 and
 * `ctx.websocket` set (router::dispatch does), the server does the handshake and runs the WebSocket
 * handler on the same strand (common/web/websocket.hpp). A handler wrapping the router may refuse the
 * upgrade before the handshake (authentication, readiness) by throwing or answering anything but 101:
 * that answer is written as an ordinary response. Open WebSockets are counted in `mb_ws_connections`.
 *
 * Shutdown (`shutdown`): stop accepting, close idle connections, close WebSockets with 1001 (going
 * away) at once, let requests in flight finish (their answers carry `Connection: close`), and close
 * whatever is left when the grace period ends.
 *
 * Thread-safety: `start` and `shutdown` from any one thread; the rest is internal. The server must
 * outlive the io_context's run.
 */
class server
{
public:
    server(net::io_context& ioc, boost::asio::ip::tcp::endpoint listen, server_options opts,
           handler h, std::shared_ptr<metrics::registry> metrics = nullptr);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /** Binds and listens (throws std::system_error naming the address when it cannot). */
    void start();

    /** The bound address, useful when listening on port 0. */
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    /** Graceful stop; completes when every connection is closed. */
    net::awaitable<void> shutdown(std::chrono::milliseconds grace);

    /** Connections currently open. */
    std::size_t connections() const;

    /** Serves TLS with `ctx` from the next connection on (a renewed certificate); connections already
        open keep theirs. Only for a server started with TLS (opts.tls); any thread. */
    void replace_tls(std::shared_ptr<ssl::context> ctx);

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

/** A TLS server context from PEM files (certificate chain, private key); throws naming the file. */
std::shared_ptr<ssl::context> load_server_tls(const std::string& cert_file, const std::string& key_file);

} // namespace common::web
