#pragma once

#include "common/web/types.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace common::web {

/**
 * Request bodies in, JSON answers out. Every failure is a `problem` 400: `MALFORMED_JSON` when the body
 * does not parse, `INVALID_REQUEST` when it is not an object or a member has the wrong type or is
 * missing (the detail names the member). Unknown members are ignored (api.md).
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
