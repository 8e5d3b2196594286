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
/** The Redis channel of one user's notifications (member.added, membership changes). */
std::string user_channel(std::string_view user_id);

} // namespace common::mode
