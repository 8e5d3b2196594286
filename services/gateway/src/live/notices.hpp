#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

namespace common::redis {
class connection;
}

namespace gateway {

using namespace common::aliases;

/**
 * Tells the live streams of every instance, through the home's Redis channel, that a home lost a
 * member or is gone: they stop streaming it at once, without waiting for MODE or PostgreSQL. Narrowing
 * what a stream carries is always safe, so this is said as soon as MODE may have made the change, and
 * each stream's next read from MODE settles the rest. Best effort: a failure is logged (the streams'
 * periodic MODE read still catches the change). Thread-safety: shared.
 */
class live_notices
{
public:
    explicit live_notices(common::redis::connection& redis)
        : redis_(redis)
    {
    }

    net::awaitable<void> member_removed(std::int64_t home, std::int64_t mode_user);
    net::awaitable<void> home_deleted(std::int64_t home);

private:
    net::awaitable<void> publish(std::int64_t home, std::string payload);

    common::redis::connection& redis_;
};

} // namespace gateway
