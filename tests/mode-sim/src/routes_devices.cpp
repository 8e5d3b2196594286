// Devices: listing, claiming, reading, updating, removing, registration (claim mode), commands, events.
//
// Who gets what (rules in access.hpp, applied by `state`):
// - A device that does not exist, or that is in no home, is 404 DEVICE_NOT_FOUND to a user key; a device
//   in a home the user is not a member of is 403 MEMBERS_ONLY. A device key may GET only itself (another
//   device: 403 PERMISSION_DENIED) and may not PATCH, DELETE or command (403 INSUFFICIENT_AUTH).
// - POST /devices {homeId, claimCode} (user keys only): the home must exist (404) and have the caller as a
//   member (403 MEMBERS_ONLY); no device with that claim code, or one not in claim mode (never registered,
//   or its claimExpirationTime has passed), is 403 DEVICE_NOT_CLAIMABLE; a device already in a home
//   (checked first) is 409 DEVICE_ALREADY_IN_HOME. Success: 201 Device, claim mode ends.
// - POST /deviceRegistration {claimable, duration?} (device key): duration in seconds, default 300,
//   1 to 86400; answers 200 {claimExpirationTime} ({} when claimable is false: claim mode ends).
// - PUT /devices/{d}/command {action, parameters?}: 409 DEVICE_OFFLINE unless the device is connected.
// - PUT /devices/{d}/event {eventType, eventData?} (the device's own key): eventData must be an object
//   (default {}); recorded with the caller's IP as originDeviceIp; 204.

#include "access.hpp"
#include "body.hpp"
#include "routes.hpp"

namespace modesim {

namespace {

namespace json = boost::json;

constexpr std::int64_t default_claim_seconds = 300;
constexpr std::int64_t max_claim_seconds = 86'400;

object_id device_id_of(const request_context& ctx)
{
    return path_id(ctx, "deviceId", reason::device_not_found);
}

response list_devices(state& st, const request& req, const request_context&)
{
    principal p = caller(st, req);
    params q = query_params(req);
    return mode_page(req, st.list_devices(p, param_int(q, "homeId"), paging_params(q)));
}

response claim_device(state& st, const request& req, const request_context&)
{
    principal p = caller(st, req);
    require_user(p);
    json::object o = json_body(req);
    auto home_id = req_int(o, "homeId");
    auto code = req_string(o, "claimCode");
    device d = st.claim_device(p, home_id, code);
    return mode_created(req, to_json(d), "/devices/" + std::to_string(d.id));
}

response get_device(state& st, const request& req, const request_context& ctx)
{
    principal p = caller(st, req);
    return mode_json(req, http::status::ok, to_json(st.get_device(p, device_id_of(ctx))));
}

response patch_device(state& st, const request& req, const request_context& ctx)
{
    principal p = caller(st, req);
    require_user_or_project(p);
    json::object o = json_body(req);
    st.update_device(p, device_id_of(ctx), opt_string(o, "name"), opt_string(o, "tag"));
    return mode_empty(req);
}

response delete_device(state& st, const request& req, const request_context& ctx)
{
    principal p = caller(st, req);
    st.remove_device(p, device_id_of(ctx));
    return mode_empty(req);
}

response register_device(state& st, const request& req, const request_context&)
{
    principal p = caller(st, req);
    require_device(p);
    json::object o = json_body(req);
    auto claimable = opt_bool(o, "claimable");
    if (!claimable)
        throw invalid_input("claimable", "REQUIRED");
    auto duration = opt_int(o, "duration").value_or(default_claim_seconds);
    if (duration < 1 || duration > max_claim_seconds)
        throw invalid_input("duration", "INVALID");
    auto expiration = st.register_device(p, *claimable, std::chrono::seconds(duration));
    json::object out;
    if (expiration)
        out["claimExpirationTime"] = format_time(*expiration);
    return mode_json(req, http::status::ok, out);
}

response send_command(state& st, const request& req, const request_context& ctx)
{
    principal p = caller(st, req);
    require_user_or_project(p);
    json::object o = json_body(req);
    auto action = req_string(o, "action");
    auto parameters = opt_object(o, "parameters").value_or(json::object{});
    st.send_command(p, device_id_of(ctx), std::move(action), std::move(parameters));
    return mode_empty(req);
}

response send_event(state& st, const request& req, const request_context& ctx)
{
    principal p = caller(st, req);
    require_device(p);
    json::object o = json_body(req);
    auto type = req_string(o, "eventType");
    auto data = opt_object(o, "eventData").value_or(json::object{});
    st.record_event(p, device_id_of(ctx), std::move(type), std::move(data), ctx.remote.address().to_string());
    return mode_empty(req);
}

} // namespace

void add_device_routes(router& r, state& st)
{
    using http::verb;
    auto route = [&st](response (*fn)(state&, const request&, const request_context&)) {
        return sync_route([&st, fn](request& req, request_context& ctx) { return fn(st, req, ctx); });
    };
    r.add(verb::get, "/devices", route(list_devices));
    r.add(verb::post, "/devices", route(claim_device));
    r.add(verb::get, "/devices/{deviceId}", route(get_device));
    r.add(verb::patch, "/devices/{deviceId}", route(patch_device));
    r.add(verb::delete_, "/devices/{deviceId}", route(delete_device));
    r.add(verb::put, "/devices/{deviceId}/command", route(send_command));
    r.add(verb::put, "/devices/{deviceId}/event", route(send_event));
    r.add(verb::post, "/deviceRegistration", route(register_device));
}

} // namespace modesim
