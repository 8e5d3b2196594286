#include "accounts/routes.hpp"

#include "accounts/login_flow.hpp"
#include "accounts/password_reset.hpp"
#include "accounts/registration.hpp"
#include "homes/member_flow.hpp"
#include "sessions/session_auth.hpp"

#include "common/log.hpp"
#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"
#include "common/web/router.hpp"

namespace gateway::accounts {

using common::web::request;
using common::web::request_context;
using common::web::response;
namespace web = common::web;

namespace {

json::object sign_in_json(const sign_in& s)
{
    json::object o{{"token", s.session.token}, {"expiresAt", s.session.expires_at}, {"user", to_json(s.user)}};
    if (!s.device_token.empty())
        o["deviceToken"] = s.device_token;
    return o;
}

json::object user_json(const user_record& u)
{
    return json::object{{"user", to_json(u)}};
}

client_info client_of(const request& req, const request_context& ctx, bool trust_forwarded_for)
{
    client_info c;
    c.ip = ctx.remote.address().to_string();
    if (trust_forwarded_for) {
        // The last hop is the one our proxy added; earlier ones are whatever the client claimed.
        auto xff = req["X-Forwarded-For"];
        std::string_view v(xff.data(), xff.size());
        if (auto comma = v.rfind(','); comma != std::string_view::npos)
            v.remove_prefix(comma + 1);
        while (!v.empty() && v.front() == ' ')
            v.remove_prefix(1);
        if (!v.empty() && v.size() <= 64)
            c.ip = std::string(v);
    }
    auto ua = req[http::field::user_agent];
    c.user_agent = std::string(ua.substr(0, 256));
    return c;
}

// Confirm-first: an invited user accepting their account also accepts the home they were invited to.
// The account is theirs either way; a membership that cannot be made now stays pending, and
// POST /v1/invitations/accept with the same token makes it later.
net::awaitable<void> accept_home_invitation(member_flow& add_member, const std::string& token,
                                            const std::string& user_id)
{
    try {
        co_await add_member.accept(token, user_id);
    } catch (const common::web::problem& p) {
        if (p.code() != "INVALID_TOKEN" && p.code() != "INVITATION_VOID")
            common::log::warn("members.accept_pending", {{"user_id", user_id}, {"code", p.code()}});
    }
}

} // namespace

void add_routes(web::router& r, deps with)
{
    auto& registrations = with.registrations;
    auto& logins = with.logins;
    auto& resets = with.resets;
    auto& auth = with.auth;
    auto& add_member = with.add_member;
    bool trust = with.trust_forwarded_for;
    bool confirm_first = with.member_confirm_first;

    r.add(http::verb::post, "/v1/auth/register",
          [&registrations, trust](request& req, request_context& ctx) -> net::awaitable<response> {
              auto body = web::parse_json_object(req);
              auto user = co_await registrations.register_user(std::string(web::require_string(body, "email")),
                                                     std::string(web::require_string(body, "password")),
                                                     std::string(web::require_string(body, "name")),
                                                     client_of(req, ctx, trust));
              co_return web::json_response(req, http::status::created, user_json(user));
          });

    r.add(http::verb::post, "/v1/auth/verify-email", [&registrations](request& req, request_context&) -> net::awaitable<response> {
        auto body = web::parse_json_object(req);
        auto user = co_await registrations.verify_email(std::string(web::require_string(body, "token")));
        co_return web::json_response(req, http::status::ok, user_json(user));
    });

    r.add(http::verb::post, "/v1/auth/resend-verification",
          [&registrations](request& req, request_context&) -> net::awaitable<response> {
              auto body = web::parse_json_object(req);
              co_await registrations.resend_verification(std::string(web::require_string(body, "email")));
              co_return web::empty_response(req, http::status::accepted);
          });

    r.add(http::verb::post, "/v1/auth/login", [&logins, trust](request& req, request_context& ctx) -> net::awaitable<response> {
        auto body = web::parse_json_object(req);
        std::optional<std::string> device;
        if (auto d = web::optional_string(body, "deviceToken"))
            device = std::string(*d);
        auto s = co_await logins.login(std::string(web::require_string(body, "email")),
                                    std::string(web::require_string(body, "password")), client_of(req, ctx, trust),
                                    std::move(device));
        co_return web::json_response(req, http::status::ok, sign_in_json(s));
    });

    r.add(http::verb::post, "/v1/auth/logout", [&auth, &logins](request& req, request_context&) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        co_await logins.logout(who.user.id, who.session_id);
        co_return web::empty_response(req, http::status::no_content);
    });

    r.add(http::verb::post, "/v1/auth/forgot-password", [&resets](request& req, request_context&) -> net::awaitable<response> {
        auto body = web::parse_json_object(req);
        co_await resets.forgot_password(std::string(web::require_string(body, "email")));
        co_return web::empty_response(req, http::status::accepted);
    });

    r.add(http::verb::post, "/v1/auth/reset-password", [&resets](request& req, request_context&) -> net::awaitable<response> {
        auto body = web::parse_json_object(req);
        co_await resets.reset_password(std::string(web::require_string(body, "token")),
                                    std::string(web::require_string(body, "password")));
        co_return web::empty_response(req, http::status::no_content);
    });

    r.add(http::verb::post, "/v1/auth/accept-invite",
          [&registrations, &add_member, trust, confirm_first](request& req, request_context& ctx) -> net::awaitable<response> {
              auto body = web::parse_json_object(req);
              std::optional<std::string> name;
              if (auto n = web::optional_string(body, "name"))
                  name = std::string(*n);
              std::string token(web::require_string(body, "token"));
              auto s = co_await registrations.accept_invite(token, std::string(web::require_string(body, "password")),
                                                  std::move(name), client_of(req, ctx, trust));
              if (confirm_first)
                  co_await accept_home_invitation(add_member, token, s.user.id);
              co_return web::json_response(req, http::status::ok, sign_in_json(s));
          });

    r.add(http::verb::get, "/v1/me", [&auth](request& req, request_context&) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        co_return web::json_response(req, http::status::ok, user_json(who.user));
    });

    r.add(http::verb::get, "/v1/me/sessions", [&auth, &logins](request& req, request_context&) -> net::awaitable<response> {
        auto who = co_await auth.authenticate(req);
        json::array out;
        for (const auto& s : co_await logins.list_sessions(who.user.id))
            out.push_back(json::object{{"id", s.id},
                                       {"createdAt", s.created_at},
                                       {"lastSeenAt", s.last_seen_at},
                                       {"expiresAt", s.expires_at},
                                       {"userAgent", s.user_agent},
                                       {"ip", s.ip},
                                       {"current", s.id == who.session_id}});
        co_return web::json_response(req, http::status::ok, out);
    });

    r.add(http::verb::delete_, "/v1/me/sessions/{id}",
          [&auth, &logins](request& req, request_context& ctx) -> net::awaitable<response> {
              auto who = co_await auth.authenticate(req);
              co_await logins.revoke_session(who.user.id, ctx.params.at("id"));
              co_return web::empty_response(req, http::status::no_content);
          });
}

} // namespace gateway::accounts
