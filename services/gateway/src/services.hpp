#pragma once

namespace common::db {
class pg_pool;
}
namespace common::metrics {
class registry;
}
namespace common::mode {
class client;
}

namespace gateway {

struct settings;
class user_store;
class mode_linker;
class session_auth;
class account_service;
class mode_access;
class membership_store;
class member_flow;
class home_directory;
class live_notices;

/** The parts a route handler may use. All of them are shared and outlive the server. */
struct services
{
    const settings& cfg;
    common::metrics::registry& metrics;
    common::db::pg_pool& db;
    common::mode::client& mode_client;
    user_store& users;
    mode_linker& linker;
    session_auth& auth;
    account_service& accounts;
    mode_access& mode;        // MODE calls with the caller's own key
    membership_store& members;
    member_flow& add_member;
    home_directory& homes;   // each user's homes, per MODE
    live_notices& notices;   // removals told to the live streams at once
};

} // namespace gateway
