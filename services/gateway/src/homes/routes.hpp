#pragma once

#include "services.hpp"

#include "common/web/router.hpp"

namespace gateway {

/** The "MODE actions" table of api.md: homes, members, devices and commands, each run with the
    caller's own MODE key. */
void add_home_routes(common::web::router& r, services& svc);

} // namespace gateway
