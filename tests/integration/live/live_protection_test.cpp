// The live stream's protections: caps refused before the upgrade with a clear problem, and a reader
// that stopped reading cut off without holding up the others.
#include "support/live_deployment.hpp"

#include <thread>

namespace live {
namespace {

// Opens a stream for `u` and reads up to its ready.
std::unique_ptr<test::ws_client> open_ready(deployment& d, const deployment::user& u)
{
    auto ws = d.stream(u);
    until_ready(*ws);
    return ws;
}

// The refusal of a stream that may not open: its HTTP status and problem body.
test::ws_handshake_error refusal(deployment& d, const deployment::user& u)
{
    try {
        auto ws = d.stream(u);
    } catch (const test::ws_handshake_error& e) {
        return e;
    }
    BOOST_FAIL("the stream was accepted");
    throw std::logic_error("unreachable");
}

// Whether a stream for `u` opens within 5 s (a place given back once a stream ended on the server).
bool opens_within_5s(deployment& d, const deployment::user& u)
{
    for (int i = 0; i < 50; ++i) {
        try {
            auto again = open_ready(d, u);
            return true;
        } catch (const test::ws_handshake_error&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    return false;
}

std::string code_of(const test::ws_handshake_error& e)
{
    return std::string(json::parse(e.body()).at("code").as_string());
}

} // namespace
} // namespace live

BOOST_AUTO_TEST_SUITE(live_protection)

BOOST_AUTO_TEST_CASE(an_instance_at_max_connections_refuses_with_503_until_one_closes)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_MAX_CONNECTIONS", "2"}});
    auto a = d.new_user("cap-a");
    auto b = d.new_user("cap-b");
    auto first = live::open_ready(d, a);
    auto second = live::open_ready(d, b);
    auto e = live::refusal(d, a);
    BOOST_TEST(e.status() == 503U);
    BOOST_TEST(live::code_of(e) == "TOO_MANY_CONNECTIONS");
    first->close();
    BOOST_TEST(live::opens_within_5s(d, a));
}

BOOST_AUTO_TEST_CASE(a_user_at_their_stream_cap_is_refused_with_429_and_others_are_not)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_LIVE_STREAMS_PER_USER", "2"}});
    auto a = d.new_user("per-user-a");
    auto b = d.new_user("per-user-b");
    auto one = live::open_ready(d, a);
    auto two = live::open_ready(d, a);
    auto e = live::refusal(d, a);
    BOOST_TEST(e.status() == 429U);
    BOOST_TEST(live::code_of(e) == "TOO_MANY_STREAMS");
    auto other = live::open_ready(d, b); // another user is not held back
    two->close();
    BOOST_TEST(live::opens_within_5s(d, a));
}

BOOST_AUTO_TEST_CASE(new_connections_faster_than_the_rate_are_refused_with_503_and_retry_after)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_CONNECTION_RATE", "3"}});
    auto u = d.new_user("rate");
    std::vector<std::unique_ptr<test::ws_client>> open;
    int refused = 0;
    std::string code;
    for (int i = 0; i < 8; ++i) {
        try {
            open.push_back(d.stream(u));
        } catch (const test::ws_handshake_error& e) {
            ++refused;
            BOOST_TEST(e.status() == 503U);
            code = live::code_of(e);
        }
    }
    // A second's worth (3) goes through at once; the rest of the burst is refused.
    BOOST_TEST(open.size() >= 3U);
    BOOST_TEST(refused >= 3);
    BOOST_TEST(code == "CONNECTION_RATE_EXCEEDED");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    BOOST_CHECK_NO_THROW(live::until_ready(*d.stream(u)));
}

BOOST_AUTO_TEST_CASE(a_reader_that_stopped_is_cut_off_and_the_others_keep_up)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_WS_WRITE_TIMEOUT", "1s"}, {"MB_LIVE_BACKLOG", "100000"}});
    auto u = d.new_user("stalled");
    auto stalled = live::open_ready(d, u);
    auto healthy = live::open_ready(d, u);
    // 400 events of 64 KiB (25 MiB): more than the socket buffers hold, so writes to the stalled
    // reader stop making progress.
    std::thread flooding([&] { live::flood(d.redis.port(), u.home, 1'000'000, 400, 64 * 1024); });
    int got = 0;
    while (got < 400) {
        auto m = healthy->read(std::chrono::seconds(10));
        if (!m)
            break;
        ++got;
    }
    flooding.join();
    BOOST_TEST(got == 400, "the healthy reader got " << got << " of 400");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    // The stalled one was cut off (no close frame could reach it): reading now drains what the
    // buffers held, then the connection ends.
    BOOST_TEST(stalled->wait_closed(std::chrono::seconds(20)));
    BOOST_TEST(!stalled->closed_with().has_value());
    BOOST_TEST(healthy->is_open());
}

BOOST_AUTO_TEST_SUITE_END()
