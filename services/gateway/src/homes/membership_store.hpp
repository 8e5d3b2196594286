#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace common::db {
class pg_pool;
}

namespace pqxx {
class result;
}

namespace gateway {

using namespace common::aliases;

/** One of our users in a MODE home member list. */
struct known_member
{
    std::int64_t mode_user_id = 0;
    std::string user_id;
    std::string name;
    std::string email;
};

/**
 * Which of our users belongs to which MODE home (home_members), kept up to date from what the gateway
 * sees MODE answer: the live event stream routes each home's events to its members by this record.
 * Runs on the caller's executor; each query on the database pool's workers. Thread-safety: shared.
 */
class membership_store
{
public:
    explicit membership_store(common::db::pg_pool& db)
        : db_(db)
    {
    }

    static std::vector<std::pair<std::string, std::string>> statements();

    /** Told the users whose homes changed in the record, after each change (the live streams follow). */
    using change_notifier = std::function<net::awaitable<void>(std::vector<std::string> user_ids)>;
    void on_change(change_notifier n) { notify_ = std::move(n); }

    net::awaitable<void> upsert(std::int64_t home_id, std::string user_id, std::string role);
    net::awaitable<void> remove(std::int64_t home_id, std::string user_id);
    /** Removes our user with this MODE user id from the home. */
    net::awaitable<void> remove_mode_user(std::int64_t home_id, std::int64_t mode_user_id);
    net::awaitable<void> remove_home(std::int64_t home_id);
    /** `homes` is the user's complete list of homes as MODE just said it: the record is made to match
        (roles come from the member lists), and, when `stamp`, the time of the read is recorded (so that
        the copy can serve, for a bounded age, while MODE cannot be reached). True when the record changed. */
    net::awaitable<bool> sync_user(std::string user_id, std::vector<std::int64_t> homes, bool stamp);
    /** The user's homes by our record, with the time they were last read from MODE (none: never). */
    struct recorded_list
    {
        std::vector<std::int64_t> homes;
        std::optional<std::chrono::system_clock::time_point> read_at;
    };
    net::awaitable<recorded_list> recorded_homes(std::string user_id);
    /** `members` is the home's complete list of {MODE user id, role}: the record of our users in it is made
        to match, and our users among them are returned (for names and emails). */
    net::awaitable<std::vector<known_member>> sync_home(std::int64_t home_id,
                                                        std::vector<std::pair<std::int64_t, std::string>> members);
    /** Marks the member as told; true the first time only. */
    net::awaitable<bool> mark_notified(std::int64_t home_id, std::string user_id);

private:
    net::awaitable<void> changed(std::vector<std::string> user_ids);
    static std::vector<std::string> user_ids(const pqxx::result& r);

    common::db::pg_pool& db_;
    change_notifier notify_;
};

} // namespace gateway
