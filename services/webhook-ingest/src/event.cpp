#include "event.hpp"

#include "common/crypto/crypto.hpp"
#include "common/web/json_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ingest {

namespace json = boost::json;

std::optional<incoming_event> parse_event(std::string_view raw_body, std::string& error)
{
    // Bounded like every request body (MB_JSON_MAX_DEPTH, MB_JSON_MAX_MEMBERS).
    common::web::json_fault fault = common::web::json_fault::none;
    auto v = common::web::parse_json_limited(raw_body, fault);
    if (fault != common::web::json_fault::none) {
        error = common::web::describe(fault);
        return std::nullopt;
    }
    auto* o = v.if_object();
    if (o == nullptr) {
        error = "the body must be a JSON object";
        return std::nullopt;
    }
    const auto* type = o->if_contains("eventType");
    if (type == nullptr || !type->is_string() || type->get_string().empty() || type->get_string().size() > 256) {
        error = "eventType: required, a string of 1 to 256 characters";
        return std::nullopt;
    }
    const auto* home = o->if_contains("homeId");
    if (home == nullptr || !(home->is_int64() || (home->is_uint64() && home->get_uint64() <= INT64_MAX))) {
        error = "homeId: required, an integer";
        return std::nullopt;
    }
    if (const auto* data = o->if_contains("eventData"); data != nullptr && !data->is_object() && !data->is_null()) {
        error = "eventData: must be an object";
        return std::nullopt;
    }
    if (common::web::contains_nul(v)) {
        error = "the event must not contain U+0000 in any string or key";
        return std::nullopt;
    }
    incoming_event e;
    e.body_hash = common::crypto::sha256_hex(raw_body);
    e.home_id = home->is_int64() ? home->get_int64() : static_cast<std::int64_t>(home->get_uint64());
    e.event_type = std::string(type->get_string());
    // Readers get the event with our own fields first-class; anything MODE adds passes through.
    o->erase("type");
    o->erase("seq");
    e.payload = json::serialize(*o);
    return e;
}

} // namespace ingest
