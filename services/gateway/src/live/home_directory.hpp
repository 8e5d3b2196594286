#pragma once

#include "sessions/session_auth.hpp"

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace gateway {

using namespace common::aliases;

class membership_store;
class mode_access;

/** A user's homes as MODE said them. */
struct home_list
{
    std::vector<std::int64_t> homes; // ascending, each once
    /** When MODE said so. */
    std::chrono::system_clock::time_point read_at;
    /** False: MODE could not be reached just now, and this is the last list read from it. */
    bool current = true;
};

/**
 * Who is in which home is MODE's to say: this reads each user's homes from MODE with the user's own key
 * (every page of `GET /homes?userId=`) and keeps the last answer, so that every stream and request of
 * one user that needs them at about the same time shares one read. Each answer also updates our
 * record (home_members), which announces changes to the user's streams on every instance.
 *
 * When MODE cannot be reached, the last list read from MODE (in memory, else the record's copy) serves
 * while it is younger than `max_age`; past that, the caller gets unavailable_error MODE_UNAVAILABLE.
 * Thread-safety: shared.
 */
class home_directory
{
public:
    using clock = std::chrono::steady_clock;

    home_directory(mode_access& mode, membership_store& record, std::chrono::milliseconds max_age)
        : mode_(mode)
        , record_(record)
        , max_age_(max_age)
    {
    }

    /**
     * The user's homes from a MODE read that started at `not_before` or later: a recent enough read is
     * reused, one in flight is joined, else a new one starts. Throws web::problem when MODE refuses the
     * read, unavailable_error when MODE cannot be reached and no copy young enough is left.
     */
    net::awaitable<home_list> homes(const caller& who, clock::time_point not_before);

    /** A complete list of the user's homes that the caller read from MODE itself (GET /v1/homes),
        read from `started` on: kept as the latest read, and recorded when it changed. */
    net::awaitable<void> note(const caller& who, std::vector<std::int64_t> homes, clock::time_point started);

    /** The gateway has just taken `home` from someone (a member removed, the home deleted): every list
        that holds it, and every read under way, is out of date; the next use reads MODE again. */
    void forget_home(std::int64_t home);

    /** MODE reads started so far. */
    std::uint64_t reads() const;

private:
    struct flight;
    struct entry
    {
        std::shared_ptr<const home_list> last; // the last list MODE gave
        clock::time_point last_started{};      // when the read that gave it started
        std::shared_ptr<flight> in_flight;     // the newest read under way
        clock::time_point stamped{};           // when the record last noted a read
        std::vector<std::int64_t> recorded;    // the list last recorded
        clock::time_point not_before{};        // reads started earlier are out of date (forget_home)
    };

    /** One read from MODE, recorded; on MODE's failure, the last copy young enough. */
    net::awaitable<home_list> read(const caller& who);
    /** Records `homes` in home_members when they differ from what was last read, or when the record's
        read time is due. */
    net::awaitable<void> record(const caller& who, const std::vector<std::int64_t>& homes);
    static net::awaitable<home_list> wait(std::shared_ptr<flight> f);
    void prune(clock::time_point now);

    mode_access& mode_;
    membership_store& record_;
    std::chrono::milliseconds max_age_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_; // by our user id
    std::uint64_t reads_ = 0;
};

} // namespace gateway
