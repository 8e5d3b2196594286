#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gateway {

using namespace common::aliases;

struct caller;
class event_history_store;
class home_directory;
class live_notices;
class membership_store;
class mode_access;

} // namespace gateway

/**
 * A user's homes, who is in them, and their stored events (the "MODE actions" of api.md), each run
 * with the caller's own MODE key: MODE decides. Our record of who is in which home (membership_store)
 * follows every answer, and a removal is told to the live streams at once. Free functions, one a job;
 * they run on the caller's executor and hold no state.
 */
namespace gateway::homes {

/** What these jobs use; shared and outliving every request. */
struct parts
{
    mode_access& mode;
    membership_store& members;
    home_directory& directory;  // each user's homes, per MODE
    live_notices& notices;      // removals told to the live streams at once
    event_history_store& history;
};

/** 1 to 100 characters, no control characters (it reaches mail headers and MODE); 400 otherwise. */
std::string validate_home_name(std::string_view raw);

/** The caller's homes as JSON text: one page passed on as MODE sent it when `paging` (`&skip=..&limit=..`)
    is given, else every page (which also tells the home directory exactly which homes the user is in). */
net::awaitable<std::string> list_homes(const parts& p, const caller& who, const std::string& paging);
net::awaitable<json::value> create_home(const parts& p, const caller& who, std::string_view name);
/** MODE's home; when MODE says the caller is not (or no longer) in it, our record forgets them too. */
net::awaitable<json::value> get_home(const parts& p, const caller& who, std::int64_t home_id);
/** Applies the change, then the home as MODE now has it. */
net::awaitable<json::value> rename_home(const parts& p, const caller& who, std::int64_t home_id,
                                        std::optional<std::string_view> name);
net::awaitable<void> delete_home(const parts& p, const caller& who, std::int64_t home_id);

/** The member list as api.md shows it: MODE's list joined with our users (names and emails). */
net::awaitable<json::array> list_members(const parts& p, const caller& who, std::int64_t home_id);
net::awaitable<void> remove_member(const parts& p, const caller& who, std::int64_t home_id,
                                   std::int64_t mode_user_id);

/** The home's stored events after `after` (at most `limit`) as api.md's `{"events":[..],"next":n}`, for a
    caller whom MODE lists in the home; 404 otherwise. */
net::awaitable<std::string> read_history(const parts& p, const caller& who, std::int64_t home_id, std::int64_t after,
                                         int limit);

} // namespace gateway::homes
