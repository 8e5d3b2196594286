#pragma once

#include "services.hpp"

#include "common/web/router.hpp"

namespace gateway {

class live_hub;

/** GET /v1/events: each user's live stream of their homes' events and their notifications (api.md). */
void add_event_routes(common::web::router& r, services& svc, live_hub& hub);

} // namespace gateway
