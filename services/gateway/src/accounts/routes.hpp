#pragma once

#include "services.hpp"

#include "common/web/router.hpp"

namespace gateway {

/** The accounts table of api.md: everything under /v1/auth and /v1/me. */
void add_account_routes(common::web::router& r, services& svc);

} // namespace gateway
