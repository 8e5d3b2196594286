#include "support/http_call.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/system/system_error.hpp>

#include <array>
#include <exception>
#include <ostream>
#include <set>
#include <stdexcept>

namespace test {

namespace {

using namespace std::chrono_literals;
using tcp = net::ip::tcp;
using request = http::request<http::string_body>;

constexpr std::uint64_t response_body_limit = 64U * 1024U * 1024U;

/**
 * Runs `task` on `ioc` until it ends and rethrows what it threw. The tcp_stream timer bounds every
 * network step; run_for is the backstop for anything it does not cover (the resolver).
 */
void run_task(net::io_context& ioc, net::awaitable<void> task, std::chrono::milliseconds timeout)
{
    std::exception_ptr error;
    bool done = false;
    net::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) {
        error = std::move(e);
        done = true;
    });
    ioc.run_for(timeout + 2s);
    if (!done)
        throw boost::system::system_error(beast::error::timeout, "http_call: no answer in time");
    if (error)
        std::rethrow_exception(error);
}

net::awaitable<void> exchange(
    beast::tcp_stream& stream,
    std::string host,
    unsigned short port,
    request& req,
    http::response_parser<http::string_body>& parser,
    std::chrono::milliseconds timeout
)
{
    // One deadline for the whole exchange: tcp_stream applies it to every later operation.
    stream.expires_after(timeout);
    tcp::resolver resolver(co_await net::this_coro::executor);
    auto endpoints =
        co_await resolver.async_resolve(host, std::to_string(port), net::use_awaitable);
    co_await stream.async_connect(endpoints, net::use_awaitable);
    auto [write_ec, written] =
        co_await http::async_write(stream, req, net::as_tuple(net::use_awaitable));
    // A server may answer (413, 400) and close before it has read the whole request: the write then
    // fails, yet the answer is what the test is about. Report the write error only if none came.
    beast::flat_buffer buffer;
    auto [read_ec, read] =
        co_await http::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
    if (read_ec)
        throw boost::system::system_error(write_ec ? write_ec : read_ec, "http_call");
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

net::awaitable<void> raw_exchange(
    beast::tcp_stream& stream,
    unsigned short port,
    const std::string& bytes,
    std::string& received,
    std::chrono::milliseconds timeout
)
{
    stream.expires_after(timeout);
    co_await stream.async_connect(
        tcp::endpoint(net::ip::address_v4::loopback(), port), net::use_awaitable
    );
    auto [write_ec, written] =
        co_await net::async_write(stream, net::buffer(bytes), net::as_tuple(net::use_awaitable));
    // Read until the server closes, resets or the deadline passes: all of those end the exchange.
    std::array<char, 4096> chunk{};
    for (;;) {
        auto [ec, n] =
            co_await stream.async_read_some(net::buffer(chunk), net::as_tuple(net::use_awaitable));
        received.append(chunk.data(), n);
        if (ec)
            break;
    }
    if (write_ec && received.empty())
        throw boost::system::system_error(write_ec, "raw_call: write");
}

} // namespace

json::value http_result::json() const
{
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec)
        throw std::runtime_error(
            "response body is not JSON (" + ec.message() + "): " + body.substr(0, 200)
        );
    return v;
}

std::string http_result::header(std::string_view name) const
{
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
}

std::ostream& operator<<(std::ostream& os, const http_result& r)
{
    os << "HTTP " << r.status;
    if (!r.body.empty())
        os << ' ' << (r.body.size() > 500 ? r.body.substr(0, 500) + "..." : r.body);
    return os;
}

http_result http_call(
    unsigned short port,
    http::verb method,
    std::string target,
    std::string body,
    header_list headers,
    std::chrono::milliseconds timeout
)
{
    return http_call(
        "127.0.0.1", port, method, std::move(target), std::move(body), std::move(headers), timeout
    );
}

http_result http_call(
    const std::string& host,
    unsigned short port,
    http::verb method,
    std::string target,
    std::string body,
    header_list headers,
    std::chrono::milliseconds timeout
)
{
    request req(method, target, 11);
    req.set(http::field::host, host + ":" + std::to_string(port));
    req.set(http::field::user_agent, "modebridge-tests");
    bool has_content_type = false;
    std::set<std::string> replaced;
    for (auto& [name, value] : headers) {
        has_content_type = has_content_type || beast::iequals(name, "content-type");
        // The first occurrence replaces a default; later ones add (repeated headers are allowed).
        if (replaced.insert(name).second)
            req.erase(name);
        req.insert(name, value);
    }
    if (!body.empty() && !has_content_type)
        req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();

    http::response_parser<http::string_body> parser;
    parser.body_limit(response_body_limit);
    // A HEAD response announces a Content-Length but carries no body.
    parser.skip(method == http::verb::head);
    {
        net::io_context ioc;
        beast::tcp_stream stream(ioc);
        run_task(ioc, exchange(stream, host, port, req, parser, timeout), timeout);
    }
    auto res = parser.release();
    http_result result;
    result.status = res.result_int();
    result.headers = static_cast<const http::fields&>(res.base());
    result.body = std::move(res.body());
    return result;
}

std::string raw_call(unsigned short port, std::string raw_bytes, std::chrono::milliseconds timeout)
{
    std::string received;
    {
        net::io_context ioc;
        beast::tcp_stream stream(ioc);
        run_task(ioc, raw_exchange(stream, port, raw_bytes, received, timeout), timeout);
    }
    return received;
}

} // namespace test
