#pragma once

#include "common/web/types.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace common::web {

/** The shape a JSON request body may have, besides its size in bytes (MB_BODY_LIMIT). */
struct json_limits
{
    std::size_t max_depth = 32;      ///< nested arrays and objects, the outermost included (MB_JSON_MAX_DEPTH)
    std::size_t max_members = 10000; ///< object members and array elements, at any depth (MB_JSON_MAX_MEMBERS)
};

/** The process's limits, for every parse below. Set once at startup, before serving (not synchronised). */
void set_json_limits(json_limits l);
const json_limits& current_json_limits() noexcept;

enum class json_fault
{
    none,
    malformed, ///< not JSON
    too_deep,  ///< nested deeper than max_depth
    too_large, ///< more than max_members members and elements
};

/** Parses `text` within current_json_limits(); on failure returns null and sets `fault`. */
json::value parse_json_limited(std::string_view text, json_fault& fault);
/** What is wrong, for an error message (names the limit). */
std::string describe(json_fault f);

/**
 * Request bodies in, JSON answers out. Failures are `problem`s: 400 `MALFORMED_JSON` when the body
 * does not parse, 400 `JSON_TOO_DEEP` / 413 `JSON_TOO_LARGE` past the json_limits, 400
 * `INVALID_REQUEST` when it is not an object or a member has the wrong type or is missing (the detail
 * names the member). Unknown members are ignored (api.md).
 */
json::object parse_json_object(const request& req);

/**
 * True when a string or a key anywhere in `v` holds U+0000, which PostgreSQL text and jsonb cannot
 * store. `member`, when given and empty, gets the name of the innermost member on the way to it.
 */
bool contains_nul(const json::value& v, std::string* member = nullptr);

std::string_view require_string(const json::object& o, std::string_view key);
std::optional<std::string_view> optional_string(const json::object& o, std::string_view key);
std::int64_t require_int(const json::object& o, std::string_view key);
std::optional<std::int64_t> optional_int(const json::object& o, std::string_view key);
const json::object& require_object(const json::object& o, std::string_view key);

/** A JSON answer to `req` (HTTP version and keep-alive taken from it). */
response json_response(const request& req, http::status status, const json::value& body);
/** A JSON answer whose body is already serialized (passed on as received). */
response json_response(const request& req, http::status status, std::string serialized);
/** An empty answer (204 and the like). */
response empty_response(const request& req, http::status status);

} // namespace common::web
