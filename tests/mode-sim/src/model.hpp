#pragma once

// The emulator's data: plain structs, no behaviour. `state` owns them under its mutex; `views` turns them
// into MODE's JSON shapes.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <iterator>
#include <vector>

namespace modesim {

using object_id = std::int64_t;
using time_point = std::chrono::system_clock::time_point;

/** RFC 3339 UTC with milliseconds, e.g. "2019-12-17T02:55:59.483Z". */
std::string format_time(time_point t);

enum class key_kind { project, user, device };

/**
 * Who is calling: what an `Authorization: ModeCloud <token>` resolves to. Holds the token itself so a
 * user key can revoke itself (DELETE /userSession); never log it.
 */
struct principal
{
    key_kind kind = key_kind::project;
    std::string token;
    std::int64_t project_id = 0;
    bool byou = false;        // project keys: the "Can Handle BYOU" permission
    std::string key_name;     // project keys
    object_id user_id = 0;    // user keys
    std::string app_id;       // user keys
    time_point creation_time; // user keys: when POST /auth/user issued it
    object_id device_id = 0;  // device keys
};

struct user
{
    object_id id = 0;
    std::int64_t project_id = 0;
    time_point creation_time;
    std::string name;
    std::optional<std::string> external_key;
    bool verified = true; // BYOU users are verified by the project's own system
};

enum class member_role { owner, member };

struct membership
{
    object_id user_id = 0;
    member_role role = member_role::member;
};

struct kv_entry
{
    boost::json::value value;
    time_point modification_time;
};

struct home
{
    object_id id = 0;
    std::int64_t project_id = 0;
    time_point creation_time;
    std::string name;
    std::vector<membership> members; // in the order they joined
    std::map<std::string, kv_entry> kv;
};

/** A home member as MODE lists it: the membership joined with its user. */
struct member_view
{
    membership m;
    user u;
};

struct command
{
    std::string action;
    boost::json::object parameters;
    time_point time;
};

struct device
{
    object_id id = 0;
    std::int64_t project_id = 0;
    time_point creation_time;
    std::string name;
    std::string tag;
    std::string device_class;
    std::string api_key;
    std::string claim_code;
    std::optional<object_id> home_id;
    std::optional<time_point> claim_time;
    std::optional<time_point> claim_expiration_time; // set while in claim mode (POST /deviceRegistration)
    // Set by the command websocket (later) or by the /_sim/ test hook; commands need it.
    bool connected = false;
    std::optional<time_point> last_connect_time;
    std::optional<time_point> last_disconnect_time;
};

/** An event a device raised, in the shape MODE delivers it (webhooks, app websocket). */
struct event_record
{
    std::string event_type;
    boost::json::object event_data;
    time_point timestamp;
    std::optional<object_id> home_id; // none when the device is in no home
    object_id origin_device_id = 0;
    std::string origin_device_class;
    std::string origin_device_ip;
};

/** What POST /_sim/devices answers. */
struct provisioned_device
{
    object_id id = 0;
    std::string api_key;
    std::string claim_code;
};

/** What POST /auth/user answers. */
struct issued_key
{
    std::string token;
    object_id user_id = 0;
    std::int64_t project_id = 0;
    time_point creation_time;
};

/** One page of a list: the items from `skip`, and how many there are in all. */
template <class T>
struct page
{
    std::vector<T> items;
    std::size_t skip = 0;
    std::size_t total = 0;
};

struct paging
{
    std::size_t skip = 0;
    std::size_t limit = 25;
};

struct stats
{
    std::size_t users = 0;
    std::size_t user_keys = 0;
    std::size_t homes = 0;
    std::size_t devices = 0;
    std::size_t commands = 0;
    std::size_t events = 0;
    std::size_t command_channels = 0; // open device command websockets
    std::size_t event_streams = 0;    // open app event websockets
};

} // namespace modesim

namespace modesim {

/** The `pg` page of `all`. */
template <class T>
page<T> make_page(std::vector<T> all, paging pg)
{
    page<T> out;
    out.total = all.size();
    out.skip = pg.skip;
    if (pg.skip < all.size()) {
        auto first = all.begin() + static_cast<std::ptrdiff_t>(pg.skip);
        auto count = std::min(pg.limit, all.size() - pg.skip);
        out.items.assign(std::make_move_iterator(first), std::make_move_iterator(first + static_cast<std::ptrdiff_t>(count)));
    }
    return out;
}

} // namespace modesim
