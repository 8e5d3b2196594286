#pragma once

// Reading requests the way MODE does, failing with MODE errors: 403 INVALID_INPUT with `data` naming the
// field and the problem ("REQUIRED", "INVALID", "MALFORMED").

#include "model.hpp"

#include "common/web/types.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace modesim {

using params = std::map<std::string, std::string, std::less<>>;

/** A standard string view as Boost.JSON's, for object keys. */
inline boost::json::string_view js(std::string_view s)
{
    return {s.data(), s.size()};
}

/** The body as a JSON object (whatever the Content-Type says); an empty body is `{}`. */
boost::json::object json_body(const common::web::request& req);

std::optional<std::int64_t> opt_int(const boost::json::object& o, std::string_view key);
std::int64_t req_int(const boost::json::object& o, std::string_view key);
std::optional<std::string> opt_string(const boost::json::object& o, std::string_view key);
/** A non-empty string. */
std::string req_string(const boost::json::object& o, std::string_view key);
std::optional<bool> opt_bool(const boost::json::object& o, std::string_view key);
/** An object member; an array or scalar there is INVALID. */
std::optional<boost::json::object> opt_object(const boost::json::object& o, std::string_view key);

/** The fields of an `application/x-www-form-urlencoded` body, decoded ('+' is a space). A body of any other
    Content-Type has no fields, as in MODE: a JSON body to POST /auth/user is missing its fields. */
params form_body(const common::web::request& req);
/** The decoded query parameters of the request target. */
params query_params(const common::web::request& req);

/** An integer field of a form or query (absent: nullopt; not an integer: INVALID). */
std::optional<std::int64_t> param_int(const params& p, std::string_view key);
/** `skip` and `limit` (default 25) of a list request. */
paging paging_params(const params& p);

/** An integer path parameter; anything else is the 404 `not_found_reason` (no such object). */
object_id path_id(const common::web::request_context& ctx, std::string_view name, std::string_view not_found_reason);
/** A path parameter, percent-decoded. */
std::string path_text(const common::web::request_context& ctx, std::string_view name);

/** A whole decimal integer, or nullopt. */
std::optional<std::int64_t> parse_int(std::string_view s);

} // namespace modesim
