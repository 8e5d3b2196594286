#include "common/web/router.hpp"

#include "common/web/problem.hpp"
#include "support/problem_of.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace common::aliases;
using common::web::request;
using common::web::request_context;
using common::web::response;
namespace web = common::web;

namespace {

/** A handler that answers with its own name and the captured parameters: "name|k=v|k=v". */
common::web::handler named(std::string name)
{
    return [name](request& req, request_context& ctx) -> net::awaitable<response> {
        response res{http::status::ok, req.version()};
        std::string body = name;
        for (const auto& [k, v] : ctx.params.items())
            body += "|" + k + "=" + v;
        res.body() = body;
        res.prepare_payload();
        co_return res;
    };
}

web::router sample_router()
{
    web::router r;
    r.add(http::verb::get, "/v1/homes", named("list"));
    r.add(http::verb::post, "/v1/homes", named("create"));
    r.add(http::verb::get, "/v1/homes/{homeId}", named("get-home"));
    r.add(http::verb::delete_, "/v1/homes/{homeId}", named("delete-home"));
    r.add(http::verb::delete_, "/v1/homes/{homeId}/members/{userId}", named("remove-member"));
    r.add(http::verb::get, "/v1/me/{x}", named("me-param"));
    r.add(http::verb::get, "/v1/me/sessions", named("me-sessions"));
    r.add(http::verb::put, "/v1/devices/{deviceId}/command", named("command"));
    return r;
}

/** Runs dispatch to completion on a fresh io_context; rethrows what it threw. */
response run_dispatch(const web::router& r, request& req, request_context& ctx)
{
    net::io_context ioc;
    std::optional<response> out;
    std::exception_ptr error;
    bool done = false;
    net::co_spawn(ioc, r.dispatch(req, ctx), [&](std::exception_ptr e, response res) {
        done = true;
        error = e;
        if (!e)
            out = std::move(res);
    });
    ioc.run_for(std::chrono::seconds(5));
    BOOST_REQUIRE_MESSAGE(done, "dispatch did not complete");
    if (error)
        std::rethrow_exception(error);
    return std::move(*out);
}

std::set<std::string> split_allow(const std::string& allow)
{
    std::set<std::string> out;
    std::size_t pos = 0;
    while (pos <= allow.size()) {
        auto comma = allow.find(',', pos);
        auto item = allow.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        while (!item.empty() && item.front() == ' ')
            item.erase(0, 1);
        while (!item.empty() && item.back() == ' ')
            item.pop_back();
        if (!item.empty())
            out.insert(item);
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    return out;
}

std::string header_of(const common::web::problem& p, const std::string& name)
{
    for (const auto& [k, v] : p.headers())
        if (k == name)
            return v;
    return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(router)

BOOST_AUTO_TEST_CASE(literal_and_parameter_segments_match)
{
    auto r = sample_router();
    request_context ctx;
    BOOST_TEST(r.match(http::verb::get, "/v1/homes", ctx) != nullptr);
    BOOST_TEST(ctx.route == "/v1/homes");
    BOOST_TEST(ctx.params.items().empty());

    request_context ctx2;
    BOOST_TEST(r.match(http::verb::get, "/v1/homes/173", ctx2) != nullptr);
    BOOST_TEST(ctx2.route == "/v1/homes/{homeId}");
    BOOST_TEST(ctx2.params.at("homeId") == "173");
    BOOST_CHECK_THROW((void)ctx2.params.at("userId"), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(parameters_are_captured_in_pattern_order)
{
    auto r = sample_router();
    request_context ctx;
    BOOST_REQUIRE(r.match(http::verb::delete_, "/v1/homes/173/members/42", ctx) != nullptr);
    const auto& items = ctx.params.items();
    BOOST_REQUIRE_EQUAL(items.size(), 2U);
    BOOST_TEST(items[0].first == "homeId");
    BOOST_TEST(items[0].second == "173");
    BOOST_TEST(items[1].first == "userId");
    BOOST_TEST(items[1].second == "42");
    BOOST_TEST(ctx.route == "/v1/homes/{homeId}/members/{userId}");
}

BOOST_AUTO_TEST_CASE(literal_beats_parameter_at_the_same_position)
{
    // Registered parameter-first in sample_router; the reverse order must give the same answers.
    for (bool literal_first : {false, true}) {
        BOOST_TEST_CONTEXT("literal registered first: " << literal_first)
        {
            web::router r;
            if (literal_first) {
                r.add(http::verb::get, "/v1/me/sessions", named("me-sessions"));
                r.add(http::verb::get, "/v1/me/{x}", named("me-param"));
            } else {
                r.add(http::verb::get, "/v1/me/{x}", named("me-param"));
                r.add(http::verb::get, "/v1/me/sessions", named("me-sessions"));
            }
            request_context a;
            BOOST_REQUIRE(r.match(http::verb::get, "/v1/me/sessions", a) != nullptr);
            BOOST_TEST(a.route == "/v1/me/sessions");
            BOOST_TEST(a.params.items().empty());

            request_context b;
            BOOST_REQUIRE(r.match(http::verb::get, "/v1/me/other", b) != nullptr);
            BOOST_TEST(b.route == "/v1/me/{x}");
            BOOST_TEST(b.params.at("x") == "other");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_dead_end_literal_falls_back_to_the_parameter)
{
    web::router r;
    r.add(http::verb::get, "/a/b/d", named("literal"));
    r.add(http::verb::get, "/a/{x}/c", named("param"));
    request_context ctx;
    BOOST_REQUIRE(r.match(http::verb::get, "/a/b/c", ctx) != nullptr);
    BOOST_TEST(ctx.route == "/a/{x}/c");
    BOOST_REQUIRE_EQUAL(ctx.params.items().size(), 1U);
    BOOST_TEST(ctx.params.at("x") == "b");
}

BOOST_AUTO_TEST_CASE(unknown_paths_are_404)
{
    auto r = sample_router();
    for (std::string path : {"/v1/nope", "/v1/homes/", "/v1/homes/173/", "/v1", "/", "/v1/homes//members/1",
                             "/v1/homes/173/members", "v1/homes", "", "/v1/devices//command"}) {
        BOOST_TEST_CONTEXT("path '" << path << "'")
        {
            request_context ctx;
            auto p = test::problem_of([&] { (void)r.match(http::verb::get, path, ctx); });
            BOOST_TEST(static_cast<unsigned>(p.status()) == 404U);
            BOOST_TEST(p.code() == "NOT_FOUND");
        }
    }
}

BOOST_AUTO_TEST_CASE(known_path_with_other_method_is_405_with_allow)
{
    auto r = sample_router();
    request_context ctx;
    auto p = test::problem_of([&] { (void)r.match(http::verb::put, "/v1/homes/9", ctx); });
    BOOST_TEST(static_cast<unsigned>(p.status()) == 405U);
    BOOST_TEST(p.code() == "METHOD_NOT_ALLOWED");
    // GET is served, so HEAD is too (it falls back to GET).
    BOOST_TEST((split_allow(header_of(p, "Allow")) == std::set<std::string>{"DELETE", "GET", "HEAD"}));

    request_context ctx2;
    auto p2 = test::problem_of([&] { (void)r.match(http::verb::get, "/v1/devices/5/command", ctx2); });
    BOOST_TEST(static_cast<unsigned>(p2.status()) == 405U);
    BOOST_TEST((split_allow(header_of(p2, "Allow")) == std::set<std::string>{"PUT"}));

    request_context ctx3;
    auto p3 = test::problem_of([&] { (void)r.match(http::verb::delete_, "/v1/homes", ctx3); });
    BOOST_TEST((split_allow(header_of(p3, "Allow")) == std::set<std::string>{"GET", "HEAD", "POST"}));
}

BOOST_AUTO_TEST_CASE(head_falls_back_to_get)
{
    auto r = sample_router();
    request_context ctx;
    const auto* head = r.match(http::verb::head, "/v1/homes/3", ctx);
    request_context ctx_get;
    const auto* get = r.match(http::verb::get, "/v1/homes/3", ctx_get);
    BOOST_TEST(head == get);
    BOOST_TEST(ctx.route == "/v1/homes/{homeId}");

    // No GET there: HEAD is not allowed either.
    request_context ctx2;
    auto p = test::problem_of([&] { (void)r.match(http::verb::head, "/v1/devices/5/command", ctx2); });
    BOOST_TEST(static_cast<unsigned>(p.status()) == 405U);

    // An explicit HEAD route wins over the fallback.
    web::router r2;
    r2.add(http::verb::get, "/x", named("get"));
    r2.add(http::verb::head, "/x", named("head"));
    request_context c1;
    request_context c2;
    BOOST_TEST(r2.match(http::verb::head, "/x", c1) != r2.match(http::verb::get, "/x", c2));
}

BOOST_AUTO_TEST_CASE(duplicate_routes_and_conflicting_parameter_names_are_rejected)
{
    web::router r;
    r.add(http::verb::get, "/v1/homes/{homeId}", named("a"));
    BOOST_CHECK_THROW(r.add(http::verb::get, "/v1/homes/{homeId}", named("b")), std::invalid_argument);
    BOOST_CHECK_NO_THROW(r.add(http::verb::patch, "/v1/homes/{homeId}", named("c")));
    BOOST_CHECK_THROW(r.add(http::verb::get, "/v1/homes/{id}/devices", named("d")), std::invalid_argument);
    BOOST_CHECK_NO_THROW(r.add(http::verb::get, "/v1/homes/{homeId}/devices", named("e")));
    BOOST_CHECK_THROW(r.add(http::verb::get, "no-leading-slash", named("f")), std::invalid_argument);

    // The rejected routes left nothing behind.
    request_context ctx;
    BOOST_REQUIRE(r.match(http::verb::get, "/v1/homes/5/devices", ctx) != nullptr);
    BOOST_TEST(ctx.params.at("homeId") == "5");
}

BOOST_AUTO_TEST_CASE(target_path_drops_query_and_fragment)
{
    BOOST_TEST(common::web::target_path("/a/b?x=1") == "/a/b");
    BOOST_TEST(common::web::target_path("/a?next=/b/c") == "/a");
    BOOST_TEST(common::web::target_path("/a#frag") == "/a");
    BOOST_TEST(common::web::target_path("/a/b") == "/a/b");
    BOOST_TEST(common::web::target_path("/?") == "/");
}

BOOST_AUTO_TEST_CASE(dispatch_runs_the_handler)
{
    auto r = sample_router();
    request req{http::verb::delete_, "/v1/homes/173/members/42?reason=x", 11};
    request_context ctx;
    auto res = run_dispatch(r, req, ctx);
    BOOST_TEST(res.result_int() == 200U);
    BOOST_TEST(res.body() == "remove-member|homeId=173|userId=42");
    BOOST_TEST(ctx.route == "/v1/homes/{homeId}/members/{userId}");

    request req2{http::verb::get, "/v1/homes?limit=3", 11};
    request_context ctx2;
    BOOST_TEST(run_dispatch(r, req2, ctx2).body() == "list");

    // Through the server's single-handler interface as well.
    auto h = r.as_handler();
    request req3{http::verb::post, "/v1/homes", 11};
    request_context ctx3;
    net::io_context ioc;
    std::string body;
    net::co_spawn(ioc, h(req3, ctx3), [&](std::exception_ptr e, response res3) {
        if (!e)
            body = res3.body();
    });
    ioc.run_for(std::chrono::seconds(5));
    BOOST_TEST(body == "create");
}

BOOST_AUTO_TEST_CASE(dispatch_reports_404_and_405_as_problems)
{
    auto r = sample_router();
    request req{http::verb::get, "/v1/unknown", 11};
    request_context ctx;
    auto p = test::problem_of([&] { (void)run_dispatch(r, req, ctx); });
    BOOST_TEST(static_cast<unsigned>(p.status()) == 404U);
    BOOST_TEST(ctx.route.empty());

    request req2{http::verb::patch, "/v1/homes", 11};
    request_context ctx2;
    auto p2 = test::problem_of([&] { (void)run_dispatch(r, req2, ctx2); });
    BOOST_TEST(static_cast<unsigned>(p2.status()) == 405U);
}

BOOST_AUTO_TEST_CASE(routes_lists_every_method_and_pattern_once)
{
    auto r = sample_router();
    r.add_websocket("/v1/events", [](const request&, request_context&, web::ws_connection&) -> net::awaitable<void> {
        co_return;
    });
    std::vector<std::string> got;
    for (const auto& e : r.routes())
        got.push_back(std::string(http::to_string(e.method)) + " " + e.pattern + (e.websocket ? " ws" : ""));
    // Sorted by pattern, then method; a WebSocket endpoint is a GET marked as such; no HEAD entries.
    std::vector<std::string> want{
        "PUT /v1/devices/{deviceId}/command", "GET /v1/events ws",
        "GET /v1/homes", "POST /v1/homes",
        "DELETE /v1/homes/{homeId}", "GET /v1/homes/{homeId}",
        "DELETE /v1/homes/{homeId}/members/{userId}",
        "GET /v1/me/sessions", "GET /v1/me/{x}",
    };
    BOOST_TEST(got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
