// mb-live's publish mode: events published straight into Redis, as webhook-ingest publishes them once
// stored, so that a run measures the fan-out alone (publish → frame), without the ingest's HTTP and
// its commit to PostgreSQL.
#pragma once

#include "streams.hpp"

namespace mblive {

// Publishes `rate` events per second until `until` on one Redis connection, in seq order from
// o.first_seq: each event on its home's channel, then the published watermark (what webhook-ingest sends
// after a batch), so that the gateway's hub releases it at once. Counts into `t`.
net::awaitable<void> publisher(const options& o, const shared_state& s, double rate, clock_type::time_point until,
                               send_totals& t);

} // namespace mblive
