#pragma once

#include "homes/homes.hpp"

namespace common::web {
class router;
}

namespace gateway {
class member_flow;
class session_auth;
} // namespace gateway

namespace gateway::homes {

/** What the home routes use; shared and outliving the server. */
struct deps
{
    session_auth& auth;
    parts homes;
    member_flow& add_member;
};

/** The "MODE actions" table of api.md: homes, members, devices, commands and history, each run with the
    caller's own MODE key. The routes only adapt HTTP (parse, call, render); the jobs are homes.hpp's,
    devices.hpp's and member_flow's. */
void add_routes(common::web::router& r, deps d);

} // namespace gateway::homes
