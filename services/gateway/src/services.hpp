#pragma once

namespace common {
class blocking_pool;
}
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

/** The parts a route handler may use. All of them are shared and outlive the server. */
struct services
{
    const settings& cfg;
    common::metrics::registry& metrics;
    common::db::pg_pool& db;
    common::blocking_pool& hash_pool; // Argon2id: bounded, so a login storm cannot starve the rest
    common::mode::client& mode;
    user_store& users;
    mode_linker& linker;
    session_auth& auth;
};

} // namespace gateway
