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

/** Why a stream that ran ended: its own close code if it closed, else what ended the connection. */
stream_end end_of(std::uint16_t own_code, std::string_view cause)
{
    switch (own_code) {
    case stream_machine::close_too_slow: return stream_end::backlog_4008;
    case stream_machine::close_unauthenticated: return stream_end::unauthenticated_4001;
    case stream_machine::close_try_again_later: return stream_end::unavailable_1013;
    default: break;
    }
    if (cause == "peer")
        return stream_end::client;
    if (cause == "shutdown")
        return stream_end::going_away_1001;
    if (cause == "timeout")
        return stream_end::idle_timeout;
    if (cause == "write_timeout")
        return stream_end::write_timeout;
    if (cause == "too_big")
        return stream_end::too_big_1009;
    return stream_end::error;
}

} // namespace

// What the admission step hands to the stream: its place, and the caller when authenticated there.
struct admitted
{
    std::shared_ptr<stream_admission::ticket> place;
    std::optional<caller> who;
};

namespace {

// One stream on an upgraded connection; returns why it ended (exceptions: `error`).
net::awaitable<stream_end> serve_stream(stream_parts parts, const web::request& req, web::request_context& ctx,
                                        web::ws_connection& ws)
{
    auto q = parse_query(req);
    if (!q.error.empty()) {
        co_await ws.close(web::ws_close::policy_violation, q.error);
        co_return stream_end::bad_request_1008;
    }
    auto token = session_auth::bearer_token(req);
    if (token.empty())
        token = q.access_token;
    auto* pre = static_cast<admitted*>(ctx.admitted.get());
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
            co_return stream_end::unauthenticated_4001;
        }
        auto stream = std::make_shared<live_stream>(parts, ws, std::move(*who), std::move(token), q.after);
        co_await stream->run();
        co_return end_of(stream->closed_with(), ws.end_cause());
    } catch (const common::unavailable_error& e) {
        // The store or MODE is unavailable: the client should come back later (with `after`).
        common::log::warn("live.unavailable", {{"code", e.code()}, {"error", e.what()}});
    }
    // Only an unavailable store or MODE gets here.
    co_await ws.close(web::ws_close::try_again_later, "a service the stream needs is unavailable");
    co_return stream_end::unavailable_1013;
}

} // namespace

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
            // Every stream opened is counted closed once, with the reason it ended.
            parts.metrics.opened();
            auto why = stream_end::error;
            std::exception_ptr failed;
            try {
                why = co_await serve_stream(parts, req, ctx, ws);
            } catch (...) {
                failed = std::current_exception();
            }
            parts.metrics.closed(why);
            if (failed)
                std::rethrow_exception(failed);
        },
        std::move(admit));
}

} // namespace gateway
