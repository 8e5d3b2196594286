// The outgoing queue of a websocket, without sockets: a fake connection records what the writer does.

#include "ws_outbox.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace common::aliases;
using modesim::ws_outbox;

namespace {

/** A connection whose writes succeed at once (or fail, once `broken`); it records writes and the close. */
class fake_connection final : public common::web::ws_connection
{
public:
    explicit fake_connection(net::any_io_executor ex)
        : ex_(std::move(ex))
    {
    }

    net::awaitable<std::optional<std::string>> read() override { co_return std::nullopt; }
    net::awaitable<bool> write(std::string text) override
    {
        if (broken || closed)
            co_return false;
        written.push_back(std::move(text));
        co_return true;
    }
    net::awaitable<bool> write_shared(const std::string& text) override { co_return co_await write(text); }
    net::awaitable<void> close(std::uint16_t code, std::string reason) override
    {
        closed.emplace(code, std::move(reason));
        co_return;
    }
    net::any_io_executor executor() const override { return ex_; }
    std::size_t shard() const override { return 0; }
    std::optional<std::uint16_t> close_code() const override { return std::nullopt; }
    bool stopping() const override { return false; }

    std::vector<std::string> written;
    std::optional<std::pair<std::uint16_t, std::string>> closed;
    bool broken = false;

private:
    net::any_io_executor ex_;
};

std::shared_ptr<const std::string> frame(std::string s)
{
    return std::make_shared<const std::string>(std::move(s));
}

/** An outbox and its writer on a fresh io_context; run() lets everything posted so far happen. */
struct writer
{
    net::io_context ioc;
    net::any_io_executor strand = net::make_strand(ioc);
    fake_connection conn{strand};
    std::shared_ptr<ws_outbox> outbox;
    bool finished = false;

    explicit writer(std::size_t limit = 4)
        : outbox(std::make_shared<ws_outbox>(strand, limit))
    {
    }
    void start()
    {
        net::co_spawn(strand, outbox->write_loop(conn), [this](std::exception_ptr e) {
            BOOST_TEST(!e);
            finished = true;
        });
    }
    void run()
    {
        ioc.restart();
        ioc.poll(); // only what is ready: the parked writer waits on a timer that never fires by itself
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(modesim_ws_outbox)

BOOST_AUTO_TEST_CASE(frames_go_out_in_order_and_end_closes)
{
    writer w;
    w.start();
    w.run();
    for (const char* s : {"one", "two", "three"})
        w.outbox->push(frame(s));
    w.run();
    BOOST_TEST(w.conn.written == (std::vector<std::string>{"one", "two", "three"}), boost::test_tools::per_element());
    BOOST_TEST(!w.finished);
    w.outbox->end(1008, "key revoked");
    w.outbox->push(frame("after the end"));
    w.run();
    BOOST_TEST(w.finished);
    BOOST_REQUIRE(w.conn.closed.has_value());
    BOOST_TEST(w.conn.closed->first == 1008);
    BOOST_TEST(w.conn.closed->second == "key revoked");
    BOOST_TEST(w.conn.written.size() == 3U);
}

BOOST_AUTO_TEST_CASE(a_consumer_too_slow_to_keep_up_is_closed_with_1008)
{
    writer w(4);
    // Nothing drains the queue yet (the writer is "stuck"): four frames fit, the fifth is one too many.
    for (int i = 0; i < 5; ++i)
        w.outbox->push(frame("f" + std::to_string(i)));
    w.start();
    w.run();
    BOOST_TEST(w.finished);
    BOOST_REQUIRE(w.conn.closed.has_value());
    BOOST_TEST(w.conn.closed->first == 1008);
    BOOST_TEST(w.conn.closed->second == "too slow");
    BOOST_TEST(w.conn.written.empty()); // dropped, not delivered late
}

BOOST_AUTO_TEST_CASE(a_full_queue_that_drains_in_time_loses_nothing)
{
    writer w(4);
    for (int i = 0; i < 4; ++i)
        w.outbox->push(frame("f" + std::to_string(i)));
    w.start();
    w.run();
    BOOST_TEST(w.conn.written.size() == 4U);
    BOOST_TEST(!w.conn.closed.has_value());
    BOOST_TEST(!w.finished);
}

BOOST_AUTO_TEST_CASE(the_writer_stops_when_the_connection_is_gone)
{
    writer w;
    w.start();
    w.conn.broken = true;
    w.outbox->push(frame("lost"));
    w.run();
    BOOST_TEST(w.finished);
    BOOST_TEST(w.conn.written.empty());
    BOOST_TEST(!w.conn.closed.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
