#include "live/notices.hpp"

#include "common/log.hpp"
#include "common/mode/event.hpp"
#include "common/redis/connection.hpp"

#include <boost/json/serialize.hpp>

namespace gateway {

net::awaitable<void> live_notices::publish(std::int64_t home, std::string payload)
{
    try {
        co_await redis_.command("PUBLISH", common::mode::home_channel(home), payload);
    } catch (const std::exception& e) {
        common::log::warn("live.notice_failed", {{"home_id", home}, {"error", e.what()}});
    }
}

namespace {

// Built outside the coroutines: GCC 12 rejects some braced initializer lists inside them.
std::string removed_json(std::int64_t home, std::int64_t mode_user)
{
    return boost::json::serialize(boost::json::object{{"type", "member.removed"}, {"homeId", home}, {"userId", mode_user}});
}

std::string deleted_json(std::int64_t home)
{
    return boost::json::serialize(boost::json::object{{"type", "home.deleted"}, {"homeId", home}});
}

} // namespace

net::awaitable<void> live_notices::member_removed(std::int64_t home, std::int64_t mode_user)
{
    co_await publish(home, removed_json(home, mode_user));
}

net::awaitable<void> live_notices::home_deleted(std::int64_t home)
{
    co_await publish(home, deleted_json(home));
}

} // namespace gateway
