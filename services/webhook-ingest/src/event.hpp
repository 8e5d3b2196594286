#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ingest {

/** A device event as received and checked, ready to store. */
struct incoming_event
{
    std::string body_hash;   // SHA-256 (hex) of the signed body: the same delivery twice is one event
    std::int64_t home_id = 0;
    std::string event_type;
    std::string payload;     // the event object, re-serialized compactly (what readers get)
};

/**
 * Checks a webhook body: a JSON object with `eventType` (a non-empty string) and `homeId` (an
 * integer), and `eventData` an object when present. Returns the event or, in `error`, why not (for a
 * 400 INVALID_EVENT detail that quotes nothing from the body).
 */
std::optional<incoming_event> parse_event(std::string_view raw_body, std::string& error);


} // namespace ingest
