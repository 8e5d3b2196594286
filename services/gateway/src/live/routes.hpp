#pragma once

#include "live/admission.hpp"
#include "live/stream.hpp"

#include "common/web/router.hpp"

namespace gateway {

/** GET /v1/events: each user's live stream of their homes' events and their notifications (api.md).
    Before the upgrade, the route takes a place (`admission`: instance and per-user caps, connection
    rate) and authenticates; then live_stream does the rest. */
void add_event_routes(common::web::router& r, stream_parts parts, stream_admission& admission);

} // namespace gateway
