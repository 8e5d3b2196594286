#include "homes/devices.hpp"

#include "homes/homes.hpp"
#include "mode/mode_access.hpp"

#include "common/web/problem.hpp"

#include <boost/json/serialize.hpp>

namespace gateway::homes {

namespace web = common::web;

namespace {

std::string device_path(std::int64_t id)
{
    return "/devices/" + std::to_string(id);
}

} // namespace

net::awaitable<std::string> list_devices(mode_access& mode, const caller& who, std::int64_t home_id,
                                         const std::string& paging)
{
    auto path = "/devices?homeId=" + std::to_string(home_id);
    if (!paging.empty())
        co_return co_await mode.call_raw(who, http::verb::get, path + paging);
    co_return json::serialize(co_await mode.list_all(who, path));
}

net::awaitable<json::value> claim_device(mode_access& mode, const caller& who, std::int64_t home_id,
                                         std::string_view claim_code)
{
    if (claim_code.empty() || claim_code.size() > 256)
        throw web::bad_request("INVALID_REQUEST", "claimCode: must be 1 to 256 characters");
    json::value out = json::object{{"homeId", home_id}, {"claimCode", claim_code}};
    co_return co_await mode.call(who, http::verb::post, "/devices", &out);
}

net::awaitable<std::string> get_device(mode_access& mode, const caller& who, std::int64_t device_id)
{
    co_return co_await mode.call_raw(who, http::verb::get, device_path(device_id));
}

net::awaitable<json::value> change_device(mode_access& mode, const caller& who, std::int64_t device_id,
                                          std::optional<std::string_view> name, std::optional<std::string_view> tag)
{
    json::object change;
    if (name)
        change["name"] = validate_home_name(*name);
    if (tag) {
        if (tag->size() > 256)
            throw web::bad_request("INVALID_REQUEST", "tag: must be at most 256 characters");
        change["tag"] = *tag;
    }
    json::value out = change;
    co_await mode.call(who, http::verb::patch, device_path(device_id), &out);
    co_return co_await mode.call(who, http::verb::get, device_path(device_id));
}

net::awaitable<void> delete_device(mode_access& mode, const caller& who, std::int64_t device_id)
{
    co_await mode.call(who, http::verb::delete_, device_path(device_id));
}

net::awaitable<void> send_command(mode_access& mode, const caller& who, std::int64_t device_id,
                                  std::string_view action, const json::value* parameters)
{
    if (action.empty() || action.size() > 256)
        throw web::bad_request("INVALID_REQUEST", "action: must be 1 to 256 characters");
    json::object params;
    if (parameters != nullptr && !parameters->is_null()) {
        if (!parameters->is_object())
            throw web::bad_request("INVALID_REQUEST", "parameters: must be an object");
        params = parameters->get_object();
    }
    json::value out = json::object{{"action", action}, {"parameters", std::move(params)}};
    co_await mode.call(who, http::verb::put, device_path(device_id) + "/command", &out);
}

} // namespace gateway::homes
