#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gateway {

using namespace common::aliases;

struct caller;
class mode_access;

} // namespace gateway

/**
 * Devices and their commands (api.md's "MODE actions"), each run with the caller's own MODE key: MODE
 * decides who may see or command a device. Free functions, one a job; they run on the caller's executor and
 * hold no state.
 */
namespace gateway::homes {

/** The home's devices as JSON text: one page as MODE sent it when `paging` is given, else every page. */
net::awaitable<std::string> list_devices(mode_access& mode, const caller& who, std::int64_t home_id,
                                         const std::string& paging);
/** Claims a device into the home with its claim code (1 to 256 characters). */
net::awaitable<json::value> claim_device(mode_access& mode, const caller& who, std::int64_t home_id,
                                         std::string_view claim_code);
/** The device as MODE sent it. */
net::awaitable<std::string> get_device(mode_access& mode, const caller& who, std::int64_t device_id);
/** Applies the change (name: as a home's; tag: at most 256 characters), then the device as MODE now has it. */
net::awaitable<json::value> change_device(mode_access& mode, const caller& who, std::int64_t device_id,
                                          std::optional<std::string_view> name, std::optional<std::string_view> tag);
net::awaitable<void> delete_device(mode_access& mode, const caller& who, std::int64_t device_id);
/** Sends a command (`action` 1 to 256 characters; `parameters` absent, null or an object). */
net::awaitable<void> send_command(mode_access& mode, const caller& who, std::int64_t device_id,
                                  std::string_view action, const json::value* parameters);

} // namespace gateway::homes
