#pragma once

// The HTTP/1.1 connection loop, written once for any stream type and instantiated in
// session_plain.cpp and session_tls.cpp (one stream type per translation unit keeps builds fast).

#include "common/log.hpp"
#include "server_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <optional>

namespace common::web::detail {

/** A parse error of the request itself (as opposed to the peer going away or a timeout). */
inline bool is_malformed(const boost::system::error_code& ec)
{
    return ec.category() == make_error_code(http::error::end_of_stream).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
}

/** Writes a protocol-level error answer (the request never reached a handler), then the caller closes. */
template <class Stream>
net::awaitable<void> write_protocol_error(server::impl& srv, Stream& stream, const problem& p, unsigned version,
                                          request_context& ctx)
{
    response res = make_problem_response(p, version, false);
    res.set("X-Request-Id", ctx.request_id);
    beast::get_lowest_layer(stream).expires_after(srv.opts.write_timeout);
    co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
    srv.metrics->counter_for("mb_http_rejected_total", "Requests refused before reaching a handler",
                             {{"status", std::to_string(static_cast<unsigned>(p.status()))}})
        .inc();
    log::info("http.rejected", {{"request_id", ctx.request_id},
                                {"status", static_cast<unsigned>(p.status())},
                                {"code", p.code()}});
}

/**
 * Reads the request's header into `parser`, `limit` bytes at most in all (http::error::header_limit past
 * it). Beast's own header_limit bounds only the part of the header not yet parsed: fields are parsed and
 * handed over line by line, so a header sent as many small lines passed it, however long it grew. Returns
 * what ended the read: nothing once the header is complete, a parse error, or the stream's error (the end
 * of the stream as Beast names it, so that callers tell a peer that went away from a malformed request).
 */
template <class Stream>
net::awaitable<boost::system::error_code> read_header_within(Stream& stream, beast::flat_buffer& buffer,
                                                             http::request_parser<http::string_body>& parser,
                                                             std::size_t limit)
{
    std::size_t parsed = 0; // header bytes the parser has taken in
    for (;;) {
        if (buffer.size() != 0) {
            boost::system::error_code ec;
            auto used = parser.put(buffer.data(), ec);
            buffer.consume(used);
            parsed += used;
            if (ec && ec != http::error::need_more)
                co_return ec;
            if (parser.is_header_done())
                co_return boost::system::error_code{};
        }
        if (parsed + buffer.size() >= limit)
            co_return boost::system::error_code(http::error::header_limit);
        auto room = std::min<std::size_t>(limit - parsed - buffer.size(), 64 * 1024);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(room), net::as_tuple(net::use_awaitable));
        buffer.commit(n);
        if (ec == net::error::eof)
            co_return boost::system::error_code(parsed + buffer.size() == 0 ? http::error::end_of_stream
                                                                             : http::error::partial_message);
        if (ec)
            co_return ec;
    }
}

/**
 * Waits for the first bytes of the next request, up to the idle timeout, and puts them in `buffer`.
 * Returns false when the connection should close (timeout, peer closed, or closed by shutdown).
 */
template <class Stream>
net::awaitable<bool> wait_for_request(server::impl& srv, session_state& st, Stream& stream, beast::flat_buffer& buffer)
{
    st.idle = true;
    if (srv.stopping)
        co_return false;
    // Read through the stream rather than wait for the socket to become readable: TLS may already have
    // taken the next request off the socket (together with the handshake or the previous request), and
    // then the socket never signals it.
    beast::get_lowest_layer(stream).expires_after(srv.opts.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), net::as_tuple(net::use_awaitable));
    buffer.commit(n);
    st.idle = false;
    co_return !ec;
}

/**
 * Serves HTTP requests on `stream` until the connection should close (returns nullopt), or until a
 * handler accepts a WebSocket upgrade: then it returns the upgrade, and the caller hands the stream
 * over to the WebSocket session.
 */
template <class Stream>
net::awaitable<std::optional<upgrade_request>> serve_http(server::impl& srv, session_state& st, Stream& stream,
                                                          boost::asio::ip::tcp::endpoint remote)
{
    beast::flat_buffer buffer;
    auto& lowest = beast::get_lowest_layer(stream);
    for (;;) {
        if (buffer.size() == 0) {
            bool more = co_await wait_for_request(srv, st, stream, buffer);
            if (!more)
                co_return std::nullopt;
        }
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(srv.opts.header_limit));
        parser.body_limit(srv.opts.body_limit);
        request_context ctx;
        ctx.remote = remote;

        lowest.expires_after(srv.opts.header_timeout);
        auto hec = co_await read_header_within(stream, buffer, parser, srv.opts.header_limit);
        ctx.started = std::chrono::steady_clock::now();
        if (hec) {
            ctx.request_id = request_id_for(request{});
            if (hec == http::error::body_limit)
                co_await write_protocol_error(
                    srv, stream,
                    problem(http::status::payload_too_large, "PAYLOAD_TOO_LARGE",
                            "the request body exceeds " + std::to_string(srv.opts.body_limit) + " bytes"),
                    11, ctx);
            else if (hec == http::error::header_limit)
                co_await write_protocol_error(
                    srv, stream,
                    problem(http::status::request_header_fields_too_large, "HEADERS_TOO_LARGE",
                            "the request headers exceed the limit"),
                    11, ctx);
            else if (is_malformed(hec))
                co_await write_protocol_error(
                    srv, stream, problem(http::status::bad_request, "MALFORMED_REQUEST", "the request is not valid HTTP/1.1"),
                    11, ctx);
            co_return std::nullopt;
        }
        auto& header = parser.get();
        ctx.request_id = request_id_for(header);
        unsigned version = header.version();

        if (st.over_address_limit) {
            co_await write_protocol_error(
                srv, stream,
                problem(http::status::too_many_requests, "TOO_MANY_CONNECTIONS_FROM_ADDRESS",
                        "this address has " + std::to_string(srv.opts.connections_per_address) +
                            " connections open already")
                    .with_header("Retry-After", "1"),
                version, ctx);
            co_return std::nullopt;
        }
        if (header.target().size() > srv.opts.url_limit) {
            co_await write_protocol_error(
                srv, stream,
                problem(http::status::uri_too_long, "URI_TOO_LONG",
                        "the request target exceeds " + std::to_string(srv.opts.url_limit) + " bytes"),
                version, ctx);
            co_return std::nullopt;
        }

        // A Transfer-Encoding whose last coding is not chunked leaves the body's length to whoever reads
        // it (RFC 9112 §6.3): a proxy in front could see another request in it. Refused, and closed.
        if (header.count(http::field::transfer_encoding) != 0 && !parser.chunked()) {
            co_await write_protocol_error(
                srv, stream,
                problem(http::status::bad_request, "MALFORMED_REQUEST",
                        "the request's Transfer-Encoding does not end with chunked"),
                version, ctx);
            co_return std::nullopt;
        }

        // Refuse an announced oversized body before reading it.
        if (auto len = parser.content_length(); len && *len > srv.opts.body_limit) {
            co_await write_protocol_error(
                srv, stream,
                problem(http::status::payload_too_large, "PAYLOAD_TOO_LARGE",
                        "the request body exceeds " + std::to_string(srv.opts.body_limit) + " bytes"),
                version, ctx);
            co_return std::nullopt;
        }
        if (beast::iequals(header[http::field::expect], "100-continue")) {
            http::response<http::empty_body> cont{http::status::continue_, version};
            lowest.expires_after(srv.opts.write_timeout);
            auto [cec, cn] = co_await http::async_write(stream, cont, net::as_tuple(net::use_awaitable));
            if (cec)
                co_return std::nullopt;
        }
        if (!parser.is_done()) {
            lowest.expires_after(srv.opts.body_timeout);
            auto [bec, bn] = co_await http::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
            if (bec) {
                if (bec == http::error::body_limit)
                    co_await write_protocol_error(
                        srv, stream,
                        problem(http::status::payload_too_large, "PAYLOAD_TOO_LARGE",
                                "the request body exceeds " + std::to_string(srv.opts.body_limit) + " bytes"),
                        version, ctx);
                else if (is_malformed(bec))
                    co_await write_protocol_error(
                        srv, stream,
                        problem(http::status::bad_request, "MALFORMED_REQUEST", "the request body is malformed"),
                        version, ctx);
                co_return std::nullopt;
            }
        }
        lowest.expires_never();

        request req = parser.release();
        response res = co_await srv.invoke(req, ctx);
        if (ctx.websocket && res.result() == http::status::switching_protocols)
            co_return upgrade_request{std::move(req), std::move(ctx), std::move(res)};
        bool keep_alive = res.keep_alive() && req.keep_alive() && !srv.stopping;
        res.keep_alive(keep_alive);
        res.set("X-Request-Id", ctx.request_id);
        if (req.method() == http::verb::head) {
            // Same headers as GET, no body.
            res.prepare_payload();
            auto length = res[http::field::content_length];
            std::string saved(length);
            res.body().clear();
            res.set(http::field::content_length, saved);
        }
        unsigned status = res.result_int();
        lowest.expires_after(srv.opts.write_timeout);
        auto [wec, wn] = co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
        srv.record(req, ctx, status);
        if (wec || !keep_alive)
            co_return std::nullopt;
    }
}

} // namespace common::web::detail
