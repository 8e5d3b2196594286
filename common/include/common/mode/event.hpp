#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace common::mode {

/**
 * A stored device event in the form clients receive it (api.md, live events):
 * {"type":"event","seq":N, ...the event's own members}. `payload` is the event object as stored
 * (serialized, without `type` and `seq`).
 */
std::string live_event_json(std::int64_t seq, std::string_view payload);

} // namespace common::mode
