// Users and auth: POST /users, GET|DELETE /users/{id}, POST /auth/user, GET /auth, GET|DELETE /userSession.
//
// Choices where MODE is silent (see access.hpp for the auth rules):
// - Every MODE route needs `Authorization: ModeCloud <token>` (scheme case-insensitive). No header, another
//   scheme or an empty token: 401 AUTHORIZATION_REQUIRED. A token the emulator does not know (never issued,
//   revoked by DELETE /userSession, its user deleted, or forgotten by /_sim/reset): 401
//   UNAUTHENTICATED_CLIENT. GET /auth is the exception: 200 {"type":"nobody"} for both.
// - POST /users and POST /auth/user need a project key with the BYOU permission (a user or device key:
//   403 INSUFFICIENT_AUTH; a project key without BYOU: 403 PERMISSION_DENIED). A `projectId` other than
//   the key's project is 403 PERMISSION_DENIED: the key has no authority there (MODE answers invalid data
//   and missing permission alike with 403).
// - POST /auth/user reads only a form body (`application/x-www-form-urlencoded`), as MODE's guide sends
//   it; fields sent as JSON are not seen, so the call fails with 403 INVALID_INPUT {"projectId":"REQUIRED"}.
//   An unknown user is 404 USER_NOT_FOUND. Each call issues a new key; keys do not expire.
// - externalKey is stored and returned but not required to be unique.

#include "access.hpp"
#include "body.hpp"
#include "routes.hpp"

namespace modesim {

namespace {

namespace json = boost::json;

std::string_view authorization_of(const request& req)
{
    auto h = req[http::field::authorization];
    return {h.data(), h.size()};
}

response create_user(state& st, const request& req)
{
    principal p = caller(st, req);
    require_byou_project(p);
    json::object o = json_body(req);
    auto project_id = req_int(o, "projectId");
    user u = st.create_user(p, project_id, opt_string(o, "name").value_or(""), opt_string(o, "externalKey"));
    return mode_created(req, to_json(u), "/users/" + std::to_string(u.id));
}

response get_user(state& st, const request& req, const request_context& ctx)
{
    principal p = caller(st, req);
    return mode_json(req, http::status::ok, to_json(st.get_user(p, path_id(ctx, "id", reason::user_not_found))));
}

response delete_user(state& st, const request& req, const request_context& ctx)
{
    principal p = caller(st, req);
    st.delete_user(p, path_id(ctx, "id", reason::user_not_found));
    return mode_empty(req);
}

response auth_user(state& st, const request& req)
{
    principal p = caller(st, req);
    require_byou_project(p);
    params form = form_body(req);
    auto project_id = param_int(form, "projectId");
    if (!project_id)
        throw invalid_input("projectId", "REQUIRED");
    auto user_id = param_int(form, "userId");
    if (!user_id)
        throw invalid_input("userId", "REQUIRED");
    auto app = form.find("appId");
    issued_key k = st.issue_user_key(p, *project_id, *user_id, app == form.end() ? std::string() : app->second);
    return mode_json(req, http::status::ok, to_json(k));
}

response get_auth(state& st, const request& req)
{
    std::optional<principal> p;
    try {
        p = st.authenticate(authorization_of(req));
    } catch (const sim_error&) {
        // Any key, or none: a bad one is simply "nobody".
    }
    return mode_json(req, http::status::ok, auth_info(p));
}

response get_session(state& st, const request& req)
{
    principal p = caller(st, req);
    require_user(p);
    return mode_json(req, http::status::ok, session_json(p));
}

response delete_session(state& st, const request& req)
{
    principal p = caller(st, req);
    st.revoke_key(p);
    return mode_empty(req);
}

} // namespace

principal caller(const state& st, const request& req)
{
    return st.authenticate(authorization_of(req));
}

void add_user_routes(router& r, state& st)
{
    using http::verb;
    r.add(verb::post, "/users", sync_route([&st](request& req, request_context&) { return create_user(st, req); }));
    r.add(verb::get, "/users/{id}", sync_route([&st](request& req, request_context& ctx) { return get_user(st, req, ctx); }));
    r.add(verb::delete_, "/users/{id}",
          sync_route([&st](request& req, request_context& ctx) { return delete_user(st, req, ctx); }));
    r.add(verb::post, "/auth/user", sync_route([&st](request& req, request_context&) { return auth_user(st, req); }));
    r.add(verb::get, "/auth", sync_route([&st](request& req, request_context&) { return get_auth(st, req); }));
    r.add(verb::get, "/userSession", sync_route([&st](request& req, request_context&) { return get_session(st, req); }));
    r.add(verb::delete_, "/userSession",
          sync_route([&st](request& req, request_context&) { return delete_session(st, req); }));
}

} // namespace modesim
