#pragma once

// MODE's error answers: `{"reason": "<CODE>", "data": {...}}` with the status codes of mode-api.md
// (401 authorization required; 403 invalid data or permission denied; 404 missing or not accessible;
// 409 conflict). The model and the handlers throw `sim_error`; render.cpp turns it into a response in one
// place.

#include "common/net/aliases.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/json/object.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace modesim {

using namespace common::aliases;

/** Reason strings the emulator answers with: MODE's known ones first, then the emulator's own. */
namespace reason {
inline constexpr std::string_view authorization_required = "AUTHORIZATION_REQUIRED";
inline constexpr std::string_view unauthenticated_client = "UNAUTHENTICATED_CLIENT";
inline constexpr std::string_view permission_denied = "PERMISSION_DENIED";
inline constexpr std::string_view insufficient_auth = "INSUFFICIENT_AUTH";
inline constexpr std::string_view members_only = "MEMBERS_ONLY";
inline constexpr std::string_view member_exists = "MEMBER_EXISTS";
inline constexpr std::string_view last_owner = "LAST_OWNER";
inline constexpr std::string_view device_not_claimable = "DEVICE_NOT_CLAIMABLE";
inline constexpr std::string_view device_already_in_home = "DEVICE_ALREADY_IN_HOME";
inline constexpr std::string_view device_offline = "DEVICE_OFFLINE";
// Not seen in MODE's code, chosen here: invalid request data (403, `data` names the field).
inline constexpr std::string_view invalid_input = "INVALID_INPUT";
inline constexpr std::string_view user_not_found = "USER_NOT_FOUND";
inline constexpr std::string_view home_not_found = "HOME_NOT_FOUND";
inline constexpr std::string_view member_not_found = "MEMBER_NOT_FOUND";
inline constexpr std::string_view device_not_found = "DEVICE_NOT_FOUND";
inline constexpr std::string_view key_not_found = "KEY_NOT_FOUND";
inline constexpr std::string_view simulated_fault = "SIMULATED_FAULT";
inline constexpr std::string_view internal_error = "INTERNAL_ERROR";
} // namespace reason

/**
 * A MODE error: HTTP status, upper-case reason and optional data. Cheap to copy; thread-agnostic.
 */
class sim_error : public std::runtime_error
{
public:
    sim_error(http::status status, std::string_view reason, json::object data = {});

    http::status status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }
    const json::object& data() const noexcept { return data_; }

private:
    http::status status_;
    std::string reason_;
    json::object data_;
};

/** 403 INVALID_INPUT with data `{field: problem}`, e.g. {"projectId": "REQUIRED"}. */
sim_error invalid_input(std::string_view field, std::string_view problem);
sim_error forbidden(std::string_view reason);
sim_error not_found(std::string_view reason);
sim_error conflict(std::string_view reason);

} // namespace modesim
