#include "sessions/session_bus.hpp"

#include "common/log.hpp"
#include "common/service_host.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace gateway {

session_bus::session_bus(net::any_io_executor strand, common::redis::connection& publisher,
                         common::redis::config cfg, session_cache& cache)
    : publisher_(publisher)
    , subscriber_(strand, std::move(cfg))
    , cache_(cache)
    , timer_(strand)
{
}

void session_bus::apply(const std::string& payload)
{
    if (payload.size() > 2 && payload.compare(0, 2, "s:") == 0)
        cache_.evict_session(payload.substr(2));
    else if (payload.size() > 2 && payload.compare(0, 2, "u:") == 0)
        cache_.evict_user(payload.substr(2));
}

net::awaitable<void> session_bus::publish(std::string payload)
{
    try {
        co_await publisher_.command("PUBLISH", channel, payload);
    } catch (const std::exception& e) {
        // Instances whose subscription is also down bypass their caches; the others drop entries
        // after the cache's maximum age.
        common::log::warn("sessions.publish_failed", {{"error", e.what()}});
    }
}

net::awaitable<void> session_bus::session_revoked(std::string session_id)
{
    cache_.evict_session(session_id);
    co_await publish("s:" + session_id);
}

net::awaitable<void> session_bus::user_changed(std::string user_id)
{
    cache_.evict_user(user_id);
    co_await publish("u:" + user_id);
}

// Trust the cache only while the subscription is up; a fresh subscription starts from an empty cache.
net::awaitable<void> session_bus::watch_connection()
{
    bool was_up = false;
    while (!stopped_) {
        bool up = subscriber_.connected();
        if (up && !was_up)
            cache_.clear();
        cache_.set_trusted(up);
        was_up = up;
        timer_.expires_after(std::chrono::milliseconds(100));
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
}

net::awaitable<void> session_bus::run()
{
    subscriber_.subscribe(channel);
    subscriber_.start();
    net::co_spawn(timer_.get_executor(), watch_connection(), common::service_host::log_failure("sessions.watch"));
    while (!stopped_) {
        common::redis::message m;
        try {
            m = co_await subscriber_.receive();
        } catch (const std::exception&) {
            break; // stopped
        }
        if (m.kind == common::redis::message_kind::message)
            apply(m.payload);
        else
            cache_.clear(); // reconnected or overflowed: something may have been missed
    }
    cache_.set_trusted(false);
}

void session_bus::stop()
{
    stopped_ = true;
    cache_.set_trusted(false);
    subscriber_.stop();
    net::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

} // namespace gateway
