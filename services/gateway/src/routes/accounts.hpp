#pragma once

#include "services.hpp"

#include "common/web/router.hpp"

namespace gateway {

/** POST /v1/auth/register, GET /v1/me (api.md, "Gateway: accounts"). */
void add_account_routes(common::web::router& r, services& svc);

} // namespace gateway
