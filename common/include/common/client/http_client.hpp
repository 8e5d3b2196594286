#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common::client {

/** Tunables of an http_client; every field has a usable default. */
struct options
{
    /// A new connection's DNS lookup, TCP connect and TLS handshake must finish within this (and
    /// within the request deadline).
    std::chrono::milliseconds connect_timeout{3000};
    /// Whole-request deadline (DNS + connect + TLS + write + read, retry included) unless the
    /// request sets its own `timeout`.
    std::chrono::milliseconds request_timeout{10000};
    /// Idle keep-alive connections kept per (scheme, host, port); 0 disables pooling.
    std::size_t max_idle_per_host = 32;
    /// An idle connection older than this is never reused (it is closed at the next pool access
    /// or by close_idle()).
    std::chrono::milliseconds idle_ttl{30000};
    /// Largest accepted response body; a larger one is error_kind::bad_response.
    std::size_t body_limit = 8 * 1024 * 1024;
    /// Sent as User-Agent unless the request carries its own; empty: no User-Agent.
    std::string user_agent = "modebridge";
    /// TLS client context for https://. Null: a tls_client context with the system CAs. Whatever
    /// the context, every TLS connection verifies the peer certificate and the host name.
    std::shared_ptr<ssl::context> tls;
};

/** One request. `url` is absolute (http:// or https://); its path and query go out as given. */
struct request
{
    http::verb method = http::verb::get;
    std::string url;
    /// Extra headers. Host, Content-Length, Transfer-Encoding and Connection are set by the client
    /// (given ones are replaced); User-Agent given here wins over options::user_agent.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type;                         ///< empty: no Content-Type header
    std::optional<std::chrono::milliseconds> timeout; ///< overrides options::request_timeout
    /// Whether the request may be sent twice. Default by method: GET, HEAD, PUT, DELETE, OPTIONS
    /// and TRACE are idempotent; POST, PATCH and others are not.
    std::optional<bool> idempotent;
};

/** A complete response (any status: 4xx/5xx are responses, not errors). */
struct response
{
    unsigned status = 0;
    http::fields headers;
    std::string body;
};

/** Why a request failed. */
enum class error_kind
{
    unreachable, ///< DNS, connect refused/reset, TLS handshake or certificate rejected, connection
                 ///< closed before a complete answer
    timeout,     ///< the connect timeout or the whole-request deadline passed
    bad_response ///< unparseable HTTP, header or body over its limit
};

std::string_view to_string(error_kind k) noexcept;

/**
 * Thrown by http_client::send. what() names the method, scheme://host:port/path (never the
 * query, headers or body: they carry credentials) and the cause.
 */
class error : public std::runtime_error
{
public:
    error(error_kind k, const std::string& what, boost::system::error_code ec = {}, bool request_sent = false);

    error_kind kind() const noexcept { return kind_; }
    /// Some of the request had been written when it failed: the server may have acted on it.
    bool request_sent() const noexcept { return request_sent_; }
    /// The underlying I/O or parser error, when there was one.
    const boost::system::error_code& code() const noexcept { return code_; }

private:
    error_kind kind_;
    boost::system::error_code code_;
    bool request_sent_ = false;
};

namespace detail {
class client_impl;
}

/**
 * Asynchronous HTTP/1.1 client with a keep-alive connection pool per (scheme, host, port), TLS
 * with certificate and host-name verification (SNI, system CAs by default), connect and
 * whole-request deadlines, and retries only where safe:
 *  - a pooled connection that the server has closed meanwhile is detected before it is used and
 *    replaced silently;
 *  - an idempotent request that fails at the connection level after connecting (reset, closed
 *    before the answer) is sent once more on a fresh connection;
 *  - a non-idempotent request is sent again only when nothing of it was written;
 *  - never after a timeout, a TLS/DNS/connect failure or a bad response.
 *
 * Executors: every connection lives on its own strand of the executor given to the constructor;
 * each exchange runs there and send() resumes on the caller's executor.
 *
 * Thread-safety: send() may be called from any number of coroutines on any executors and threads
 * at once; close_idle() and idle_connections() from any thread. Distinct objects: safe.
 * Lifetime: sends in flight keep the shared state alive, so the client may be destroyed while they
 * run; the execution context must outlive both. Pooled sockets are plain idle sockets (no timer):
 * they keep no io_context running.
 */
class http_client
{
public:
    explicit http_client(net::any_io_executor ex, options opts = {});
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;
    http_client(http_client&&) noexcept = default;
    http_client& operator=(http_client&&) noexcept = default;

    /**
     * Sends `req` and returns the complete response. Throws common::client::error on failure and
     * std::invalid_argument for a malformed request (URL not absolute http(s), header with CR/LF).
     */
    net::awaitable<response> send(request req);

    /// Closes every idle pooled connection (for example at shutdown or after a network change).
    void close_idle();

    /// Number of idle pooled connections, all hosts together.
    std::size_t idle_connections() const;

private:
    std::shared_ptr<detail::client_impl> impl_;
};

} // namespace common::client
