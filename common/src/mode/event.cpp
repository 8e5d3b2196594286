#include "common/mode/event.hpp"

namespace common::mode {

std::string live_event_json(std::int64_t seq, std::string_view payload)
{
    // payload is a serialized object: our two members go in front of its own.
    std::string out;
    out.reserve(payload.size() + 32);
    out += "{\"type\":\"event\",\"seq\":";
    out += std::to_string(seq);
    if (payload.size() > 2)
        out += ',';
    if (!payload.empty())
        out.append(payload.substr(1));
    else
        out += '}';
    return out;
}

} // namespace common::mode
