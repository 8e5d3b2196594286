// MODE's answers as the MODE client reads them (common/src/mode/client.cpp): each HTTP response parsed by
// Beast's response parser with http_client's body limit, as its connections read them (1xx skipped), then
// handed to common::mode::client through its transport: status classes, MODE's `reason`, JSON bodies, the
// ids and keys of BYOU calls, and list_all's paging by the `vnd.tinkermode.range` header.
// Whatever MODE answers, a call returns or throws common::mode::error, never anything else.
//
// Input: the first byte picks the call (and a page size), the rest is what MODE sends on the connection:
// one response after another (list_all reads as many pages as it asks for).
#include "common/mode/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

using namespace common::aliases;
namespace client = common::client;

namespace {

std::vector<client::response> read_responses(const std::uint8_t* data, std::size_t size)
{
    std::vector<client::response> out;
    const client::options opts;
    std::size_t used = 0;
    while (used < size && out.size() < 64) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(opts.body_limit);
        parser.eager(true);
        beast::error_code ec;
        while (used < size && !parser.is_done()) {
            auto n = parser.put(net::buffer(data + used, size - used), ec);
            if (ec || n == 0)
                break;
            used += n;
        }
        if (!ec && !parser.is_done() && used == size)
            parser.put_eof(ec);
        if (ec || !parser.is_done())
            break; // bad_response or unreachable: the client throws, nothing reaches MODE's client
        const unsigned status = parser.get().result_int();
        if (status >= 100 && status < 200 && status != 101)
            continue;
        auto msg = parser.release();
        client::response r;
        r.status = status;
        r.body = std::move(msg.body());
        r.headers = std::move(static_cast<http::fields&>(msg));
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t pick = data[0];
    auto answers = read_responses(data + 1, size - 1);
    std::size_t next = 0;
    auto transport = [&](client::request) -> net::awaitable<client::response> {
        if (next >= answers.size())
            throw client::error(client::error_kind::unreachable, "GET http://mode.test/: connection closed");
        co_return answers[next++];
    };
    common::mode::client mode(transport, "http://mode.test/", std::chrono::seconds(5));

    net::io_context ioc;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            try {
                switch (pick % 6) {
                case 0:
                    (void)co_await mode.call(http::verb::get, "/homes/12", "user-key");
                    break;
                case 1:
                    (void)co_await mode.call_raw(http::verb::put, "/devices/3/command", "user-key");
                    break;
                case 2:
                    (void)co_await mode.create_user("project-key", 1234, "external");
                    break;
                case 3:
                    (void)co_await mode.issue_user_key("project-key", 1234, 99);
                    break;
                default: {
                    const std::size_t page = 1 + pick / 6 % 8;
                    auto all = co_await mode.list_all("/homes?userId=99", "user-key", page);
                    if (next > answers.size())
                        std::abort();
                    (void)all;
                    break;
                }
                }
            } catch (const common::mode::error& e) {
                if (e.kind() == common::mode::failure::rejected && e.reason().empty())
                    std::abort(); // a rejection always carries a reason (ERROR at least)
            }
        },
        [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // not a common::mode::error: a crash
        });
    ioc.run();
    return 0;
}
