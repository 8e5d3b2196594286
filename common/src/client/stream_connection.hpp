#pragma once

// The Beast read/write code shared by the plain and the TLS connection. Included only by
// connection_plain.cpp and connection_tls.cpp, so each stream type is instantiated in its own TU.

#include "client/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace common::client::detail {

template <class Stream>
class stream_connection : public connection
{
public:
    template <class... Args>
    explicit stream_connection(net::any_io_executor strand, Args&&... args)
        : connection(strand)
        , stream_(strand, std::forward<Args>(args)...)
    {
        // Room for a typical answer in one read (Beast would otherwise start at 512 bytes a read).
        buffer_.reserve(8192);
    }

    net::awaitable<write_result> write(const request_message& msg) override
    {
        auto [ec, n] = co_await http::async_write(stream_, msg, net::as_tuple(net::use_awaitable));
        co_return write_result{ec, n};
    }

    net::awaitable<read_result> read(std::size_t body_limit, bool head) override
    {
        read_result out;
        for (;;) {
            http::response_parser<http::string_body> parser;
            parser.body_limit(body_limit);
            // A HEAD answer announces a length but carries no body.
            parser.skip(head);
            auto [ec, n] = co_await http::async_read(
                stream_, buffer_, parser, net::as_tuple(net::use_awaitable)
            );
            if (ec) {
                out.ec = ec;
                co_return out;
            }
            const unsigned status = parser.get().result_int();
            // 1xx are interim (we never ask for 100-continue, but a server may send them
            // anyway); 101 would be an upgrade, which we never request either: treat it as final.
            if (status >= 100 && status < 200 && status != 101)
                continue;
            // Bytes beyond the response mean the server is out of step with us: do not reuse.
            out.keep_alive = parser.keep_alive() && buffer_.size() == 0;
            out.msg = parser.release();
            co_return out;
        }
    }

protected:
    Stream stream_;
    beast::flat_buffer buffer_;
};

} // namespace common::client::detail
