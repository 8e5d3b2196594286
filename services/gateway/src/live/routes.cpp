#include "live/routes.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/web/problem.hpp"

#include <boost/url/parse.hpp>

#include <charconv>

namespace gateway {

namespace web = common::web;

namespace {

constexpr std::uint16_t close_unauthenticated = 4001;

struct query
{
    std::string access_token;
    std::optional<std::int64_t> after;
    std::string error; // a malformed `after`
};

query parse_query(const web::request& req)
{
    query q;
    auto u = boost::urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
    if (!u)
        return q;
    for (auto p : u->params()) {
        if (p.key == "access_token") {
            q.access_token = p.value;
        } else if (p.key == "after") {
            std::int64_t v = -1;
            auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
            if (ec != std::errc() || ptr != p.value.data() + p.value.size() || v < 0)
                q.error = "after: must be a non-negative integer";
            else
                q.after = v;
        }
    }
    return q;
}

} // namespace

// What the admission step hands to the stream: its place, and the caller when authenticated there.
struct admitted
{
    std::shared_ptr<stream_admission::ticket> place;
    std::optional<caller> who;
};

void add_event_routes(web::router& r, stream_parts parts, stream_admission& admission)
{
    auto admit = [parts, &admission](web::request& req, web::request_context& ctx) -> net::awaitable<void> {
        auto a = std::make_shared<admitted>();
        a->place = admission.enter();
        auto token = session_auth::bearer_token(req);
        if (token.empty())
            token = parse_query(req).access_token;
        try {
            a->who = co_await parts.auth.authenticate_token(token);
        } catch (const std::exception&) {
            // Not authenticated here (unknown token, or the store is down): the stream itself says so
            // after the upgrade (4001, or 1013), as it always has.
        }
        if (a->who)
            admission.claim(*a->place, a->who->user.id);
        ctx.admitted = std::move(a);
    };
    r.add_websocket(
        "/v1/events",
        [parts](const web::request& req, web::request_context& ctx, web::ws_connection& ws) -> net::awaitable<void> {
            auto q = parse_query(req);
            if (!q.error.empty()) {
                co_await ws.close(web::ws_close::policy_violation, q.error);
                co_return;
            }
            auto token = session_auth::bearer_token(req);
            if (token.empty())
                token = q.access_token;
            auto* pre = static_cast<admitted*>(ctx.admitted.get());
            bool unavailable = false;
            try {
                std::optional<caller> who;
                if (pre != nullptr)
                    who = std::move(pre->who); // the stream keeps the one copy
                if (!who) {
                    try {
                        who = co_await parts.auth.authenticate_token(token);
                    } catch (const web::problem& p) {
                        if (static_cast<unsigned>(p.status()) != 401)
                            throw;
                    }
                }
                if (!who) {
                    co_await ws.close(close_unauthenticated, "unauthenticated");
                    co_return;
                }
                auto stream = std::make_shared<live_stream>(parts, ws, std::move(*who), std::move(token), q.after);
                co_await stream->run();
            } catch (const common::unavailable_error& e) {
                // The store or MODE is unavailable: the client should come back later (with `after`).
                common::log::warn("live.unavailable", {{"code", e.code()}, {"error", e.what()}});
                unavailable = true;
            }
            if (unavailable)
                co_await ws.close(web::ws_close::try_again_later, "a service the stream needs is unavailable");
        },
        std::move(admit));
}

} // namespace gateway
