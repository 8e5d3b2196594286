#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace common::mode {

/**
 * A stored device event in the form clients receive it (api.md, live events):
 * {"type":"event","seq":N, ...the event's own members}. `payload` is the event object as stored
 * (serialized, without `type` and `seq`).
 */
std::string live_event_json(std::int64_t seq, std::string_view payload);

/** The Redis channel of a home's events: webhook-ingest publishes there, gateways subscribe. */
std::string home_channel(std::int64_t home_id);
/** The home of a home_channel() name; nullopt for any other channel. */
std::optional<std::int64_t> home_of_channel(std::string_view channel);
/**
 * The Redis channel of the published watermark: after Redis took a batch of events and it is marked
 * published, webhook-ingest PUBLISHes there (as a decimal number) the highest seq N such that every
 * stored event up to N has been published. A subscriber that receives N has already received every
 * event up to N on its channels (Redis hands one connection its messages in the order it ran the
 * PUBLISHes), so it may deliver them in seq order.
 */
std::string_view published_channel();
/** The seq of a published_channel() message; nullopt when it is not one. */
std::optional<std::int64_t> parse_published(std::string_view payload);
/** The Redis channel of one user's notifications (member.added, membership changes). */
std::string user_channel(std::string_view user_id);

} // namespace common::mode
