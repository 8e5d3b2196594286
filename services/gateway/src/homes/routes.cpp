#include "homes/routes.hpp"

#include "homes/devices.hpp"
#include "homes/member_flow.hpp"
#include "sessions/session_auth.hpp"

#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"
#include "common/web/router.hpp"

#include <boost/url/parse.hpp>

#include <charconv>

namespace gateway::homes {

using common::web::request;
using common::web::request_context;
using common::web::response;
namespace web = common::web;

namespace {

// Ids are positive integers; anything else names nothing.
std::int64_t id_param(const request_context& ctx, std::string_view name)
{
    const auto& s = ctx.params.at(name);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0)
        throw web::not_found();
    return v;
}

// skip and limit pass through to MODE's paged lists when given.
std::string paging(const request& req)
{
    auto u = boost::urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
    std::string out;
    if (!u)
        return out;
    for (auto p : u->params()) {
        if (p.key != "skip" && p.key != "limit")
            continue;
        std::int64_t v = -1;
        auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
        if (ec != std::errc() || ptr != p.value.data() + p.value.size() || v < 0 || v > 10'000)
            throw web::bad_request("INVALID_REQUEST", p.key + ": must be a non-negative integer");
        out += "&" + p.key + "=" + std::to_string(v);
    }
    return out;
}

// An integer query parameter within [min, max], or `fallback` when absent; 400 otherwise.
std::int64_t query_int(const request& req, std::string_view name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max)
{
    auto u = boost::urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
    if (!u)
        return fallback;
    for (auto p : u->params()) {
        if (p.key != name)
            continue;
        std::int64_t v = 0;
        auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
        if (ec != std::errc() || ptr != p.value.data() + p.value.size() || v < min || v > max)
            throw web::bad_request("INVALID_REQUEST",
                                   std::string(name) + ": must be an integer from " + std::to_string(min) + " to " +
                                       std::to_string(max));
        return v;
    }
    return fallback;
}

http::status status_of(member_result::outcome what)
{
    switch (what) {
    case member_result::outcome::added:
        return http::status::created;
    case member_result::outcome::pending:
        return http::status::accepted;
    case member_result::outcome::existing:
        break;
    }
    return http::status::ok;
}

} // namespace

void add_routes(web::router& r, deps with)
{
    auto& auth = with.auth;
    const auto& p = with.homes;
    auto& mode = with.homes.mode;
    auto& add_member = with.add_member;

    // Homes
    r.add(http::verb::get, "/v1/homes", [&auth, p](request& req, request_context&) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        co_return web::json_response(req, http::status::ok, co_await list_homes(p, who, paging(req)));
    });

    r.add(http::verb::post, "/v1/homes", [&auth, p](request& req, request_context&) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto body = web::parse_json_object(req);
        auto home = co_await create_home(p, who, web::require_string(body, "name"));
        co_return web::json_response(req, http::status::created, home);
    });

    r.add(http::verb::get, "/v1/homes/{homeId}", [&auth, p](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        co_return web::json_response(req, http::status::ok, co_await get_home(p, who, id));
    });

    r.add(http::verb::patch, "/v1/homes/{homeId}", [&auth, p](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        auto body = web::parse_json_object(req);
        auto home = co_await rename_home(p, who, id, web::optional_string(body, "name"));
        co_return web::json_response(req, http::status::ok, home);
    });

    r.add(http::verb::delete_, "/v1/homes/{homeId}", [&auth, p](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        co_await delete_home(p, who, id);
        co_return web::empty_response(req, http::status::no_content);
    });

    // Members
    r.add(http::verb::get, "/v1/homes/{homeId}/members",
          [&auth, p](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "homeId");
              co_return web::json_response(req, http::status::ok, co_await list_members(p, who, id));
          });

    r.add(http::verb::post, "/v1/homes/{homeId}/members",
          [&auth, &add_member](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "homeId");
              auto body = web::parse_json_object(req);
              auto result = co_await add_member.add(who, id, std::string(web::require_string(body, "email")),
                                                    std::string(web::optional_string(body, "role").value_or("")));
              co_return web::json_response(req, status_of(result.what), result.body);
          });

    r.add(http::verb::delete_, "/v1/homes/{homeId}/members/{userId}",
          [&auth, p](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "homeId");
              auto member = id_param(ctx, "userId");
              co_await remove_member(p, who, id, member);
              co_return web::empty_response(req, http::status::no_content);
          });

    r.add(http::verb::post, "/v1/invitations/accept",
          [&auth, &add_member](request& req, request_context&) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto body = web::parse_json_object(req);
              auto member = co_await add_member.accept(std::string(web::require_string(body, "token")), who.user.id);
              co_return web::json_response(req, http::status::ok, member);
          });

    // Devices and commands
    r.add(http::verb::get, "/v1/homes/{homeId}/devices",
          [&auth, &mode](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "homeId");
              co_return web::json_response(req, http::status::ok, co_await list_devices(mode, who, id, paging(req)));
          });

    r.add(http::verb::post, "/v1/homes/{homeId}/devices",
          [&auth, &mode](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "homeId");
              auto body = web::parse_json_object(req);
              auto device = co_await claim_device(mode, who, id, web::require_string(body, "claimCode"));
              co_return web::json_response(req, http::status::created, device);
          });

    r.add(http::verb::get, "/v1/devices/{deviceId}", [&auth, &mode](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "deviceId");
        co_return web::json_response(req, http::status::ok, co_await get_device(mode, who, id));
    });

    r.add(http::verb::patch, "/v1/devices/{deviceId}",
          [&auth, &mode](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "deviceId");
              auto body = web::parse_json_object(req);
              auto device = co_await change_device(mode, who, id, web::optional_string(body, "name"),
                                                   web::optional_string(body, "tag"));
              co_return web::json_response(req, http::status::ok, device);
          });

    r.add(http::verb::delete_, "/v1/devices/{deviceId}",
          [&auth, &mode](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "deviceId");
              co_await delete_device(mode, who, id);
              co_return web::empty_response(req, http::status::no_content);
          });

    r.add(http::verb::put, "/v1/devices/{deviceId}/command",
          [&auth, &mode](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "deviceId");
              auto body = web::parse_json_object(req);
              co_await send_command(mode, who, id, web::require_string(body, "action"), body.if_contains("parameters"));
              co_return web::json_response(req, http::status::accepted, json::object{{"status", "accepted"}});
          });

    // History: stored events of a home; MODE decides (with the caller's key) whether the caller may see it.
    r.add(http::verb::get, "/v1/homes/{homeId}/events",
          [&auth, p](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "homeId");
              auto after = query_int(req, "after", 0, 0, INT64_MAX);
              auto limit = static_cast<int>(query_int(req, "limit", 100, 1, 1000));
              co_return web::json_response(req, http::status::ok, co_await read_history(p, who, id, after, limit));
          });
}

} // namespace gateway::homes
