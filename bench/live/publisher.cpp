#include "publisher.hpp"

#include "common/mode/event.hpp"
#include "common/redis/connection.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <utility>
#include <vector>

namespace mblive {

net::awaitable<void> publisher(const options& o, const shared_state& s, double rate, clock_type::time_point until,
                               send_totals& t)
{
    auto ex = co_await net::this_coro::executor;
    common::redis::connection redis(ex, common::redis::parse_url(o.redis_url));
    redis.start();
    net::steady_timer pace(ex);
    for (int i = 0; i < 100 && !redis.connected(); ++i) {
        pace.expires_after(std::chrono::milliseconds(50));
        co_await pace.async_wait(net::use_awaitable);
    }
    auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate));
    auto channel = common::mode::home_channel(o.home);
    auto watermark = std::string(common::mode::published_channel());
    auto next = clock_type::now();
    for (std::int64_t seq = o.first_seq; next < until; ++seq) {
        pace.expires_at(next);
        co_await pace.async_wait(net::use_awaitable);
        next += interval;
        // What webhook-ingest stores and publishes: MODE's event, here carrying its send time.
        boost::json::object data;
        data["sentAtNs"] = now_ns();
        data["run"] = s.run_id;
        data["i"] = seq;
        boost::json::object event;
        event["homeId"] = o.home;
        event["eventType"] = "bench";
        event["timestamp"] = "2026-11-30T00:00:00.000Z";
        event["eventData"] = std::move(data);
        std::vector<std::vector<std::string>> commands;
        commands.push_back({"PUBLISH", channel, common::mode::live_event_json(seq, boost::json::serialize(event))});
        commands.push_back({"PUBLISH", watermark, std::to_string(seq)});
        try {
            auto replies = co_await redis.pipeline(std::move(commands));
            if (replies.size() == 2 && !replies[0].is_error())
                ++t.sent;
            else
                ++t.errors;
        } catch (const common::redis::error&) {
            ++t.errors;
        }
    }
    redis.stop();
}

} // namespace mblive
