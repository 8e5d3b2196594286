// Homes, members and the home key-value store.
//
// Who gets what (rules in access.hpp, applied by `state`):
// - A home that does not exist is 404 HOME_NOT_FOUND. An existing home the caller (user key) is not a
//   member of is 403 MEMBERS_ONLY, for every route under /homes/{h}; so is claiming a device into it and
//   listing its devices. A member who is not an owner doing an owner's action (PATCH/DELETE the home,
//   adding, changing or removing someone else) is 403 PERMISSION_DENIED. Device keys: 403 INSUFFICIENT_AUTH.
// - GET /homes: a user key lists its own homes (`userId`, when given, must be the caller: otherwise 403
//   PERMISSION_DENIED); a project key lists the homes of `userId`, or all of the project's without it.
// - A member may remove themselves. Removing or demoting the last owner is 409 LAST_OWNER. Adding a user
//   who is already a member is 409 MEMBER_EXISTS; an unknown user 404 USER_NOT_FOUND.
// - Lists (homes, members) take `skip`/`limit` (default 25) and send `vnd.tinkermode.range`.
// - kv: PUT `{"value": any}` → 204; GET → `{key, value, modificationTime}`; a missing key is 404
//   KEY_NOT_FOUND; GET /homes/{h}/kv lists every pair.

#include "access.hpp"
#include "body.hpp"
#include "routes.hpp"

namespace modesim {

namespace {

namespace json = boost::json;

// The key kind first, so a device key hears 403 INSUFFICIENT_AUTH before any body or id problem.
principal home_caller(const state& st, const request& req)
{
    principal p = caller(st, req);
    require_user_or_project(p);
    return p;
}

object_id home_id_of(const request_context& ctx)
{
    return path_id(ctx, "homeId", reason::home_not_found);
}

member_role role_of(const std::optional<std::string>& text)
{
    if (!text)
        return member_role::member;
    auto role = parse_role(*text);
    if (!role)
        throw invalid_input("role", "INVALID");
    return *role;
}

response list_homes(state& st, const request& req)
{
    principal p = home_caller(st, req);
    params q = query_params(req);
    return mode_page(req, st.list_homes(p, param_int(q, "userId"), paging_params(q)));
}

response create_home(state& st, const request& req)
{
    principal p = home_caller(st, req);
    json::object o = json_body(req);
    home h = st.create_home(p, req_string(o, "name"));
    return mode_created(req, to_json(h), "/homes/" + std::to_string(h.id));
}

response get_home(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    return mode_json(req, http::status::ok, to_json(st.get_home(p, home_id_of(ctx))));
}

response patch_home(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    json::object o = json_body(req);
    st.update_home(p, home_id_of(ctx), opt_string(o, "name"));
    return mode_empty(req);
}

response delete_home(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    st.delete_home(p, home_id_of(ctx));
    return mode_empty(req);
}

response list_members(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    return mode_page(req, st.list_members(p, home_id_of(ctx), paging_params(query_params(req))));
}

response add_member(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    json::object o = json_body(req);
    auto user_id = req_int(o, "userId");
    auto role = role_of(opt_string(o, "role"));
    auto home_id = home_id_of(ctx);
    member_view m = st.add_member(p, home_id, user_id, role);
    return mode_created(req, to_json(m), "/homes/" + std::to_string(home_id) + "/members/" + std::to_string(user_id));
}

response patch_member(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    json::object o = json_body(req);
    auto role = opt_string(o, "role");
    if (!role)
        throw invalid_input("role", "REQUIRED");
    st.set_member_role(p, home_id_of(ctx), path_id(ctx, "userId", reason::member_not_found), role_of(role));
    return mode_empty(req);
}

response delete_member(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    st.remove_member(p, home_id_of(ctx), path_id(ctx, "userId", reason::member_not_found));
    return mode_empty(req);
}

response list_kv(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    json::array out;
    for (const auto& [key, entry] : st.list_kv(p, home_id_of(ctx)))
        out.emplace_back(kv_json(key, entry));
    return mode_json(req, http::status::ok, out);
}

response get_kv(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    std::string key = path_text(ctx, "key");
    return mode_json(req, http::status::ok, kv_json(key, st.get_kv(p, home_id_of(ctx), key)));
}

response put_kv(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    json::object o = json_body(req);
    const json::value* value = o.if_contains("value");
    if (value == nullptr)
        throw invalid_input("value", "REQUIRED");
    st.put_kv(p, home_id_of(ctx), path_text(ctx, "key"), *value);
    return mode_empty(req);
}

response delete_kv(state& st, const request& req, const request_context& ctx)
{
    principal p = home_caller(st, req);
    st.delete_kv(p, home_id_of(ctx), path_text(ctx, "key"));
    return mode_empty(req);
}

} // namespace

void add_home_routes(router& r, state& st)
{
    using http::verb;
    // Every handler here has the same shape; bind the state once.
    auto route = [&st](response (*fn)(state&, const request&, const request_context&)) {
        return sync_route([&st, fn](request& req, request_context& ctx) { return fn(st, req, ctx); });
    };
    auto route0 = [&st](response (*fn)(state&, const request&)) {
        return sync_route([&st, fn](request& req, request_context&) { return fn(st, req); });
    };
    r.add(verb::get, "/homes", route0(list_homes));
    r.add(verb::post, "/homes", route0(create_home));
    r.add(verb::get, "/homes/{homeId}", route(get_home));
    r.add(verb::patch, "/homes/{homeId}", route(patch_home));
    r.add(verb::delete_, "/homes/{homeId}", route(delete_home));
    r.add(verb::get, "/homes/{homeId}/members", route(list_members));
    r.add(verb::post, "/homes/{homeId}/members", route(add_member));
    r.add(verb::patch, "/homes/{homeId}/members/{userId}", route(patch_member));
    r.add(verb::delete_, "/homes/{homeId}/members/{userId}", route(delete_member));
    r.add(verb::get, "/homes/{homeId}/kv", route(list_kv));
    r.add(verb::get, "/homes/{homeId}/kv/{key}", route(get_kv));
    r.add(verb::put, "/homes/{homeId}/kv/{key}", route(put_kv));
    r.add(verb::delete_, "/homes/{homeId}/kv/{key}", route(delete_kv));
}

} // namespace modesim
