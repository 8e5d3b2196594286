#pragma once

#include "event_store.hpp"
#include "settings.hpp"

#include "common/metrics.hpp"
#include "common/web/router.hpp"

namespace ingest {

/**
 * POST <MB_WEBHOOK_PATH>: the Webhooks Smart Module's event callbacks (api.md, "Webhook ingest"):
 * 401 INVALID_SIGNATURE before anything is parsed, 400 INVALID_EVENT for a body that is not an event,
 * 204 once the event is committed (a redelivery too, stored once), 503 STORE_UNAVAILABLE when it cannot
 * be stored, so that MODE retries. The body limit (413) and read timeouts are the server's.
 */
void add_webhook_route(common::web::router& r, const settings& s, event_store& store, common::metrics::registry& m);

} // namespace ingest
