#pragma once

// A deployment for live stream tests: the real gateway, webhook-ingest, PostgreSQL, the emulator, and a
// Redis of the test's own (pub/sub channels are global to a Redis server, and every emulator numbers
// its homes from 1); and what the tests read from a stream.
#include "support/account_flow.hpp"
#include "support/redis_server.hpp"
#include "support/stack.hpp"
#include "support/webhook.hpp"
#include "support/ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace live {

using namespace common::aliases;

struct deployment
{
    explicit deployment(std::map<std::string, std::string> gateway_env = {})
        : redis_url("redis://127.0.0.1:" + std::to_string(redis.port()))
        , ingest(test::start_ingest(db.url(), {{"MB_REDIS_URL", redis_url}}))
        , gw(test::start_gateway(db.url(), sim.base_url(), with(gateway_env, "MB_REDIS_URL", redis_url)))
    {
    }

    static std::map<std::string, std::string> with(std::map<std::string, std::string> env, const std::string& k,
                                                   const std::string& v)
    {
        env[k] = v;
        return env;
    }

    test::http_result call(http::verb m, const std::string& path, const std::string& token, json::object body = {})
    {
        return test::http_call(gw.port, m, path, body.empty() ? std::string() : json::serialize(body),
                               {{"Authorization", "Bearer " + token}});
    }

    struct user
    {
        std::string email;
        std::string token;
        std::int64_t home = 0;
        std::int64_t mode_user = 0;
    };

    // A signed-in user with a home of their own.
    user new_user(const std::string& who)
    {
        user u;
        u.email = test::unique_email(who);
        u.token = test::verified_login(gw, u.email);
        auto home = call(http::verb::post, "/v1/homes", u.token, {{"name", who + "'s home"}});
        BOOST_REQUIRE_MESSAGE(home.status == 201U, home);
        u.home = home.json().at("id").as_int64();
        u.mode_user = call(http::verb::get, "/v1/me", u.token).json().at("user").at("mode").at("userId").as_int64();
        return u;
    }

    // An event as MODE's Webhooks Smart Module delivers it; stored once acknowledged.
    void emit(std::int64_t home, int n)
    {
        auto body = json::serialize(json::object{{"homeId", home},
                                                 {"timestamp", "2026-11-30T10:00:00.000Z"},
                                                 {"eventType", "reading"},
                                                 {"eventData", {{"n", n}}},
                                                 {"originDeviceId", 9}});
        auto r = test::post_signed_event(ingest, body);
        BOOST_REQUIRE_MESSAGE(r.status == 204U, r);
    }

    std::unique_ptr<test::ws_client> stream(const user& u, const std::string& query = "")
    {
        return std::make_unique<test::ws_client>(gw.port, "/v1/events" + query,
                                                 test::header_list{{"Authorization", "Bearer " + u.token}});
    }

    test::redis_server redis;
    std::string redis_url;
    test::scratch_database db;
    test::running_service sim = test::start_mode_sim();
    test::running_service ingest;
    test::running_service gw;
};

inline json::object next(test::ws_client& ws)
{
    auto m = ws.read(std::chrono::seconds(10));
    BOOST_REQUIRE_MESSAGE(m.has_value(), "no message within 10 s");
    return json::parse(*m).as_object();
}

// Reads up to the `ready` that follows the catch-up; the events before it.
inline std::vector<json::object> until_ready(test::ws_client& ws, std::int64_t* last_seq = nullptr)
{
    std::vector<json::object> events;
    for (;;) {
        auto m = next(ws);
        if (m.at("type").as_string() == "ready") {
            if (last_seq != nullptr)
                *last_seq = m.at("lastSeq").as_int64();
            return events;
        }
        events.push_back(std::move(m));
    }
}

// Publishes `times` events of `home` straight on Redis (as webhook-ingest would), each about `size`
// bytes, with seqs from `first_seq` up, each followed by the published watermark; over a plain socket.
inline void flood(unsigned short redis_port, std::int64_t home, std::int64_t first_seq, int times, std::size_t size)
{
    net::io_context ioc;
    net::ip::tcp::socket s(ioc);
    s.connect({net::ip::make_address("127.0.0.1"), redis_port});
    const std::string channel = "mb:home:" + std::to_string(home);
    const std::string pad(size, 'x');
    const std::string published = "mb:published";
    for (int i = 0; i < times; ++i) {
        auto payload = json::serialize(json::object{{"type", "event"},
                                                    {"seq", first_seq + i},
                                                    {"homeId", home},
                                                    {"eventType", "big"},
                                                    {"eventData", {{"pad", pad}}}});
        auto cmd = "*3\r\n$7\r\nPUBLISH\r\n$" + std::to_string(channel.size()) + "\r\n" + channel + "\r\n$" +
                   std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
        // As webhook-ingest does: the published watermark follows, and lets gateways hand it over.
        auto through = std::to_string(first_seq + i);
        cmd += "*3\r\n$7\r\nPUBLISH\r\n$" + std::to_string(published.size()) + "\r\n" + published + "\r\n$" +
               std::to_string(through.size()) + "\r\n" + through + "\r\n";
        net::write(s, net::buffer(cmd));
    }
    // Closing with replies unread would reset the connection and lose the last commands: say we are
    // done, and read until Redis, having run them all, closes its side.
    s.shutdown(net::ip::tcp::socket::shutdown_send);
    char sink[4096];
    boost::system::error_code ec;
    while (!ec)
        (void)s.read_some(net::buffer(sink), ec);
}

// The `n` of an event's eventData.
inline std::int64_t n_of(const json::object& e)
{
    return e.at("eventData").at("n").as_int64();
}
} // namespace live
