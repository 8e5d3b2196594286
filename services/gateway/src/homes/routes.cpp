#include "homes/routes.hpp"

#include "live/home_directory.hpp"
#include "live/notices.hpp"
#include "homes/member_flow.hpp"
#include "homes/membership_store.hpp"
#include "mode/mode_access.hpp"
#include "sessions/session_auth.hpp"
#include "accounts/validation.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/mode/event.hpp"
#include "common/web/json_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>

namespace gateway {

using common::web::problem;
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

std::string validate_home_name(std::string_view raw)
{
    auto n = utf8_length(raw);
    if (n == 0 || n > 100)
        throw web::bad_request("INVALID_REQUEST", "name: must be 1 to 100 characters");
    reject_control_chars(raw, "name"); // it reaches mail headers (invitations) and MODE
    return std::string(raw);
}

std::vector<std::int64_t> ids_of(const json::value& list)
{
    std::vector<std::int64_t> out;
    if (!list.is_array())
        return out;
    for (const auto& v : list.as_array())
        if (const auto* o = v.if_object())
            if (const auto* id = o->if_contains("id"); id != nullptr && id->is_int64())
                out.push_back(id->get_int64());
    return out;
}

std::vector<std::pair<std::int64_t, std::string>> member_roles(const json::value& list)
{
    std::vector<std::pair<std::int64_t, std::string>> out;
    if (!list.is_array())
        return out;
    for (const auto& v : list.as_array()) {
        const auto* o = v.if_object();
        if (o == nullptr)
            continue;
        const auto* id = o->if_contains("userId");
        const auto* role = o->if_contains("role");
        if (id != nullptr && id->is_int64())
            out.emplace_back(id->get_int64(),
                             role != nullptr && role->is_string() ? std::string(role->get_string()) : "member");
    }
    return out;
}

// The member list as api.md shows it: MODE's list joined with our users.
json::array members_json(const json::value& list, const std::vector<known_member>& ours)
{
    json::array out;
    if (!list.is_array())
        return out;
    for (const auto& v : list.as_array()) {
        const auto* o = v.if_object();
        if (o == nullptr)
            continue;
        json::object m;
        m["userId"] = o->contains("userId") ? o->at("userId") : json::value(nullptr);
        m["role"] = o->contains("role") ? o->at("role") : json::value("member");
        m["name"] = o->contains("name") ? o->at("name") : json::value("");
        m["email"] = nullptr;
        if (const auto* id = o->if_contains("userId"); id != nullptr && id->is_int64())
            for (const auto& k : ours)
                if (k.mode_user_id == id->get_int64()) {
                    m["name"] = k.name;
                    m["email"] = k.email;
                }
        out.push_back(std::move(m));
    }
    return out;
}

std::string home_path(std::int64_t id)
{
    return "/homes/" + std::to_string(id);
}

std::string device_path(std::int64_t id)
{
    return "/devices/" + std::to_string(id);
}

/**
 * A removal (of a member, of a home) in the order that keeps it safe when a step fails: MODE first (it
 * decides); then the live streams of every instance are told, also when MODE's answer was lost on the
 * way (a timeout or outage may hide a removal that happened: narrowing a stream is always safe, and its
 * next MODE read restores what was not removed); then our record, whose failure does not undo what MODE
 * did (the record is a copy, set right by the next read from MODE).
 */
template <class ModeStep, class TellStep, class RecordStep>
net::awaitable<void> removal(ModeStep mode_step, TellStep tell, RecordStep record)
{
    std::optional<problem> failed;
    try {
        co_await mode_step();
    } catch (const problem& p) {
        if (static_cast<unsigned>(p.status()) < 500)
            throw; // MODE refused: nothing changed
        failed = p;
    }
    co_await tell();
    if (failed)
        throw *failed;
    try {
        co_await record();
    } catch (const common::unavailable_error& e) {
        common::log::warn("homes.record_failed", {{"code", e.code()}, {"error", e.what()}});
    }
}

} // namespace

void add_home_routes(web::router& r, services& svc)
{
    auto& mode = svc.mode;
    auto& auth = svc.auth;
    auto& members = svc.members;

    r.add(http::verb::get, "/v1/homes", [&](request& req, request_context&) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto q = paging(req);
        auto path = "/homes?userId=" + std::to_string(mode.mode_user_id(who));
        if (!q.empty()) // one page, as the client asked: passed on as MODE sent it
            co_return web::json_response(req, http::status::ok, co_await mode.call_raw(who, http::verb::get, path + q));
        // Every page: the complete list also says exactly which homes the user is in.
        auto started = home_directory::clock::now();
        auto list = co_await mode.list_all(who, path);
        co_await svc.homes.note(who, ids_of(list), started);
        co_return web::json_response(req, http::status::ok, json::serialize(list));
    });

    r.add(http::verb::post, "/v1/homes", [&](request& req, request_context&) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto body = web::parse_json_object(req);
        json::value out = json::object{{"name", validate_home_name(web::require_string(body, "name"))}};
        auto home = co_await mode.call(who, http::verb::post, "/homes", &out);
        if (auto ids = ids_of(json::array{home}); !ids.empty())
            co_await members.upsert(ids.front(), who.user.id, "owner");
        co_return web::json_response(req, http::status::created, home);
    });

    r.add(http::verb::get, "/v1/homes/{homeId}", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        std::optional<problem> refused;
        try {
            co_return web::json_response(req, http::status::ok, co_await mode.call(who, http::verb::get, home_path(id)));
        } catch (const problem& p) {
            auto status = static_cast<unsigned>(p.status());
            if (status != 403 && status != 404)
                throw;
            refused = p;
        }
        // MODE says the user is not (or no longer) in this home.
        co_await members.remove(id, who.user.id);
        throw *refused;
    });

    r.add(http::verb::patch, "/v1/homes/{homeId}", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        auto body = web::parse_json_object(req);
        json::object change;
        if (auto name = web::optional_string(body, "name"))
            change["name"] = validate_home_name(*name);
        json::value out = change;
        co_await mode.call(who, http::verb::patch, home_path(id), &out);
        co_return web::json_response(req, http::status::ok, co_await mode.call(who, http::verb::get, home_path(id)));
    });

    r.add(http::verb::delete_, "/v1/homes/{homeId}", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        co_await removal([&]() -> net::awaitable<void> { co_await mode.call(who, http::verb::delete_, home_path(id)); },
                         [&]() -> net::awaitable<void> { co_await svc.notices.home_deleted(id); },
                         [&]() -> net::awaitable<void> { co_await members.remove_home(id); });
        co_return web::empty_response(req, http::status::no_content);
    });

    r.add(http::verb::get, "/v1/homes/{homeId}/members", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        json::value list = co_await mode.list_all(who, home_path(id) + "/members");
        auto ours = co_await members.sync_home(id, member_roles(list));
        co_return web::json_response(req, http::status::ok, members_json(list, ours));
    });

    r.add(http::verb::post, "/v1/homes/{homeId}/members", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        auto body = web::parse_json_object(req);
        auto result = co_await svc.add_member.add(who, id, std::string(web::require_string(body, "email")),
                                                   std::string(web::optional_string(body, "role").value_or("")));
        auto status = result.what == member_result::outcome::added     ? http::status::created
                      : result.what == member_result::outcome::pending ? http::status::accepted
                                                                       : http::status::ok;
        co_return web::json_response(req, status, result.body);
    });

    r.add(http::verb::delete_, "/v1/homes/{homeId}/members/{userId}",
          [&](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              auto id = id_param(ctx, "homeId");
              auto member = id_param(ctx, "userId");
              co_await removal(
                  [&]() -> net::awaitable<void> {
                      co_await mode.call(who, http::verb::delete_, home_path(id) + "/members/" + std::to_string(member));
                  },
                  [&]() -> net::awaitable<void> { co_await svc.notices.member_removed(id, member); },
                  [&]() -> net::awaitable<void> { co_await members.remove_mode_user(id, member); });
              co_return web::empty_response(req, http::status::no_content);
          });

    r.add(http::verb::get, "/v1/homes/{homeId}/devices", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        auto path = "/devices?homeId=" + std::to_string(id);
        auto q = paging(req);
        if (!q.empty())
            co_return web::json_response(req, http::status::ok, co_await mode.call_raw(who, http::verb::get, path + q));
        co_return web::json_response(req, http::status::ok, json::serialize(co_await mode.list_all(who, path)));
    });

    r.add(http::verb::post, "/v1/homes/{homeId}/devices", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        auto body = web::parse_json_object(req);
        auto code = web::require_string(body, "claimCode");
        if (code.empty() || code.size() > 256)
            throw web::bad_request("INVALID_REQUEST", "claimCode: must be 1 to 256 characters");
        json::value out = json::object{{"homeId", id}, {"claimCode", code}};
        auto device = co_await mode.call(who, http::verb::post, "/devices", &out);
        co_return web::json_response(req, http::status::created, device);
    });

    r.add(http::verb::get, "/v1/devices/{deviceId}", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "deviceId");
        co_return web::json_response(req, http::status::ok, co_await mode.call_raw(who, http::verb::get, device_path(id)));
    });

    r.add(http::verb::patch, "/v1/devices/{deviceId}", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "deviceId");
        auto body = web::parse_json_object(req);
        json::object change;
        if (auto name = web::optional_string(body, "name"))
            change["name"] = validate_home_name(*name);
        if (auto tag = web::optional_string(body, "tag")) {
            if (tag->size() > 256)
                throw web::bad_request("INVALID_REQUEST", "tag: must be at most 256 characters");
            change["tag"] = *tag;
        }
        json::value out = change;
        co_await mode.call(who, http::verb::patch, device_path(id), &out);
        co_return web::json_response(req, http::status::ok, co_await mode.call(who, http::verb::get, device_path(id)));
    });

    r.add(http::verb::delete_, "/v1/devices/{deviceId}", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "deviceId");
        co_await mode.call(who, http::verb::delete_, device_path(id));
        co_return web::empty_response(req, http::status::no_content);
    });

    r.add(http::verb::put, "/v1/devices/{deviceId}/command", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "deviceId");
        auto body = web::parse_json_object(req);
        auto action = web::require_string(body, "action");
        if (action.empty() || action.size() > 256)
            throw web::bad_request("INVALID_REQUEST", "action: must be 1 to 256 characters");
        json::object parameters;
        if (const auto* p = body.if_contains("parameters"); p != nullptr && !p->is_null()) {
            if (!p->is_object())
                throw web::bad_request("INVALID_REQUEST", "parameters: must be an object");
            parameters = p->get_object();
        }
        json::value out = json::object{{"action", action}, {"parameters", std::move(parameters)}};
        co_await mode.call(who, http::verb::put, device_path(id) + "/command", &out);
        co_return web::json_response(req, http::status::accepted, json::object{{"status", "accepted"}});
    });

    // Stored history of a home's events; MODE decides (with the caller's key) whether the caller may see it.
    r.add(http::verb::get, "/v1/homes/{homeId}/events", [&](request& req, request_context& ctx) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto id = id_param(ctx, "homeId");
        auto after = query_int(req, "after", 0, 0, INT64_MAX);
        auto limit = static_cast<int>(query_int(req, "limit", 100, 1, 1000));
        // Who may read it is what MODE says the caller's homes are (as for the live stream).
        auto list = co_await svc.homes.homes(who, home_directory::clock::now() - std::chrono::seconds(1));
        if (!std::binary_search(list.homes.begin(), list.homes.end(), id))
            throw web::not_found();
        auto rows = co_await members.events(id, after, limit);
        std::string out = "{\"events\":[";
        std::int64_t next = after;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (i != 0)
                out += ',';
            out += common::mode::live_event_json(rows[i].first, rows[i].second);
            next = rows[i].first;
        }
        out += "],\"next\":" + std::to_string(next) + "}";
        co_return web::json_response(req, http::status::ok, std::move(out));
    });

    r.add(http::verb::post, "/v1/invitations/accept", [&](request& req, request_context&) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        auto body = web::parse_json_object(req);
        auto member = co_await svc.add_member.accept(std::string(web::require_string(body, "token")), who.user.id);
        co_return web::json_response(req, http::status::ok, member);
    });
}

} // namespace gateway
