#pragma once

// Internal to common_client: one HTTP/1.1 connection, plain or TLS, behind a small virtual
// interface so that the pool and retry logic (http_client.cpp) is compiled once, and each Beast
// stream type is instantiated in its own translation unit (connection_plain.cpp,
// connection_tls.cpp).

#include "common/net/aliases.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace common::client::detail {

using tcp = net::ip::tcp;
using request_message = http::request<http::string_body>;
using response_message = http::response<http::string_body>;

struct write_result
{
    boost::system::error_code ec;
    std::size_t bytes = 0;
};

struct read_result
{
    boost::system::error_code ec;
    response_message msg;
    bool keep_alive = false; ///< the connection may carry another request
};

/**
 * One client connection. Created on its own strand (executor()); every operation must run on
 * that strand, one request at a time. Not thread-safe otherwise.
 */
class connection
{
public:
    explicit connection(net::any_io_executor strand)
        : strand_(std::move(strand))
    {}
    virtual ~connection() = default;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    const net::any_io_executor& executor() const noexcept { return strand_; }

    /// TCP connect to the first reachable endpoint (no TLS yet).
    net::awaitable<boost::system::error_code> connect(const tcp::resolver::results_type& eps);
    /// TLS handshake with certificate and host-name verification; nothing for plain HTTP.
    virtual net::awaitable<boost::system::error_code> handshake() = 0;
    /// After a failed handshake: why the peer certificate was rejected, or "" if it was not.
    virtual std::string certificate_problem() = 0;

    virtual net::awaitable<write_result> write(const request_message& msg) = 0;
    /// Reads one final response (1xx interim responses are skipped). `head`: no body follows.
    virtual net::awaitable<read_result> read(std::size_t body_limit, bool head) = 0;

    /// Closes the socket; pending operations complete with operation_aborted.
    void close() noexcept;
    /// True when an idle connection can no longer carry a request: closed, the peer sent FIN or
    /// RST, or unsolicited bytes arrived. Must only be called while no operation is pending.
    bool unusable() noexcept;

protected:
    virtual tcp::socket& socket() noexcept = 0;

private:
    net::any_io_executor strand_;
};

std::shared_ptr<connection> make_plain_connection(net::any_io_executor strand);
/// `host` is the URL's host: used for SNI (when a name) and for certificate host verification.
std::shared_ptr<connection> make_tls_connection(
    net::any_io_executor strand, std::shared_ptr<ssl::context> ctx, std::string host
);

} // namespace common::client::detail
