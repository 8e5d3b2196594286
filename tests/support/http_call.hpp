#pragma once

// A small synchronous HTTP/1.1 client for tests (plain TCP, no TLS). Every call runs its own
// io_context and is bounded by its timeout, so a misbehaving server fails the test instead of
// hanging it. Functions are reentrant: each call owns all its state, so any thread may call them.

#include "common/net/aliases.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace test {

using namespace common::aliases;

using header_list = std::vector<std::pair<std::string, std::string>>;

/** What came back from http_call. */
struct http_result
{
    unsigned status = 0;
    http::fields headers;
    std::string body;

    /** The body parsed as JSON; throws std::runtime_error quoting the start of the body otherwise.
     */
    json::value json() const;
    /** A header's value ("" when absent; the first one when repeated). */
    std::string header(std::string_view name) const;
};

/** "HTTP <status>" plus the body (shortened), for test failure messages. */
std::ostream& operator<<(std::ostream& os, const http_result& r);

/**
 * Sends one request to 127.0.0.1:port and reads the response; the whole exchange (connect, write,
 * read) must finish within `timeout`. Sets Host and User-Agent, and Content-Type: application/json
 * when `body` is non-empty and `headers` has no Content-Type; `headers` may override Host and
 * User-Agent and may repeat a name. Throws boost::system::system_error on a connect/IO error or
 * timeout (beast::error::timeout), so a test states with BOOST_CHECK_THROW when it expects one.
 */
http_result http_call(
    unsigned short port,
    http::verb method,
    std::string target,
    std::string body = {},
    header_list headers = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(10)
);

/** The same against another host (name or address, resolved first). */
http_result http_call(
    const std::string& host,
    unsigned short port,
    http::verb method,
    std::string target,
    std::string body = {},
    header_list headers = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(10)
);

/**
 * For malformed-request tests: connects to 127.0.0.1:port, writes `raw_bytes` as they are, then
 * returns every byte received until the server closes, the connection resets or `timeout` passes
 * (whatever arrived by then). Throws boost::system::system_error when it cannot connect or write.
 */
std::string raw_call(
    unsigned short port,
    std::string raw_bytes,
    std::chrono::milliseconds timeout = std::chrono::seconds(5)
);

} // namespace test
