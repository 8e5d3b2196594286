#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace common::db {
class pg_pool;
}

namespace gateway {

using namespace common::aliases;

/** A user whose MODE link is due, claimed by this instance for a while (a lease). */
struct link_job
{
    std::string user_id;
    std::optional<std::int64_t> mode_user_id;
    int attempts = 0;
};

/**
 * The MODE link columns of the accounts table (MODE user id, sealed user key, link schedule and lease):
 * what the linker and the per-user MODE access read and write. Every query a prepared statement.
 * Runs on the caller's executor; each query on the database pool's workers. Thread-safety: shared.
 */
class link_store
{
public:
    explicit link_store(common::db::pg_pool& db)
        : db_(db)
    {
    }

    /** The statements to prepare on every pool connection. */
    static std::vector<std::pair<std::string, std::string>> statements();

    /** Records the MODE user id as soon as MODE returned it, so a retry reuses it. */
    net::awaitable<void> set_mode_user_id(std::string id, std::int64_t mode_user_id);
    /** Stores the sealed MODE user key: the account is linked. */
    net::awaitable<void> set_linked(std::string id, std::string sealed_key_b64);
    /** Up to `limit` stored MODE keys (ids after `after_id`, in id order) whose sealed value does not start
        with `current_prefix`: {id, sealed}. */
    net::awaitable<std::vector<std::pair<std::string, std::string>>> keys_to_reseal(std::string current_prefix,
                                                                                    std::string after_id, int limit);
    /** Stores `after` as the sealed key, unless the row no longer holds `before` (changed meanwhile). */
    net::awaitable<void> reseal_key(std::string id, std::string before, std::string after);
    /** Forgets a MODE user key that MODE refuses, so the linker issues a new one (same MODE user). */
    net::awaitable<void> reset_key(std::string id);
    /** Claims the link of one account for `lease`, if it is unlinked and nobody holds it. */
    net::awaitable<std::optional<link_job>> claim_user(std::string id, std::chrono::milliseconds lease);
    /** Schedules the next link attempt after `delay`; returns the attempts made so far. */
    net::awaitable<int> link_failed(std::string id, std::chrono::milliseconds delay, std::string reason);
    /** Claims the most overdue unlinked user, leasing it for `lease`. */
    net::awaitable<std::optional<link_job>> claim_link(std::chrono::milliseconds lease);

private:
    common::db::pg_pool& db_;
};

} // namespace gateway
