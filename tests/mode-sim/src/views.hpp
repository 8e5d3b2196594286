#pragma once

// The model in MODE's JSON shapes (mode-api.md, "Objects"). Pure functions; optional fields MODE leaves
// out when unset (homeId, claimTime, ...) are omitted rather than null. A home member's creationTime is its
// user's.

#include "model.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace modesim {

boost::json::object to_json(const user& u);
boost::json::object to_json(const home& h);
boost::json::object to_json(const member_view& m);
boost::json::object to_json(const device& d);
boost::json::object to_json(const command& c);
/** The "event as delivered" object (webhooks and the app websocket). */
boost::json::object to_json(const event_record& e);
boost::json::object to_json(const provisioned_device& d);
boost::json::object to_json(const issued_key& k);
boost::json::object to_json(const stats& s);
boost::json::object kv_json(const std::string& key, const kv_entry& e);

/** GET /auth: `{"type":"nobody"}` without a valid key, otherwise the key's kind and owner. */
boost::json::object auth_info(const std::optional<principal>& p);
/** GET /userSession. */
boost::json::object session_json(const principal& p);

std::string_view to_string(member_role r);
std::optional<member_role> parse_role(std::string_view s);

} // namespace modesim
