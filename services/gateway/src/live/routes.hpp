#pragma once

#include "live/stream.hpp"

#include "common/web/router.hpp"

namespace gateway {

/** GET /v1/events: each user's live stream of their homes' events and their notifications (api.md).
    The route authenticates and upgrades; live_stream does the rest. */
void add_event_routes(common::web::router& r, stream_parts parts);

} // namespace gateway
