#include "common/mode/client.hpp"
#include "mode/mode_problems.hpp"

#include "common/web/json_body.hpp"
#include "common/web/router.hpp"
#include "common/web/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

using namespace common::aliases;
namespace web = common::web;
namespace mode = common::mode;

BOOST_AUTO_TEST_SUITE(mode_client)

namespace {

unsigned status_of(const web::problem& p)
{
    return static_cast<unsigned>(p.status());
}

// A stand-in for MODE answering whatever each test needs, on a real socket.
struct fake_mode
{
    fake_mode()
    {
        routes.add(http::verb::post, "/users", [this](web::request& req, web::request_context&) -> net::awaitable<web::response> {
            seen_auth = std::string(req[http::field::authorization]);
            seen_body = req.body();
            co_return web::json_response(req, http::status::created, json::object{{"id", 77}, {"projectId", 1}});
        });
        routes.add(http::verb::post, "/auth/user", [this](web::request& req, web::request_context&) -> net::awaitable<web::response> {
            seen_body = req.body();
            seen_type = std::string(req[http::field::content_type]);
            co_return web::json_response(req, http::status::ok, json::object{{"token", "user-key-77"}, {"userId", 77}});
        });
        routes.add(http::verb::get, "/status/{code}", [](web::request& req, web::request_context& ctx) -> net::awaitable<web::response> {
            auto code = static_cast<unsigned>(std::stoi(ctx.params.at("code")));
            co_return web::json_response(req, static_cast<http::status>(code), json::object{{"reason", "DEVICE_OFFLINE"}});
        });
        routes.add(http::verb::get, "/garbage", [](web::request& req, web::request_context&) -> net::awaitable<web::response> {
            web::response res{http::status::ok, req.version()};
            res.body() = "<html>not json";
            res.prepare_payload();
            co_return res;
        });
        routes.add(http::verb::get, "/slow", [](web::request& req, web::request_context&) -> net::awaitable<web::response> {
            net::steady_timer t(co_await net::this_coro::executor, std::chrono::seconds(5));
            co_await t.async_wait(net::use_awaitable);
            co_return web::empty_response(req, http::status::no_content);
        });
        // A paged list of 30 items that never gives more than 7 at a time, whatever `limit` asks.
        routes.add(http::verb::get, "/things", [this](web::request& req, web::request_context&) -> net::awaitable<web::response> {
            seen_targets.push_back(std::string(req.target()));
            auto target = std::string(req.target());
            auto param = [&](const std::string& k) {
                auto at = target.find(k + "=");
                return at == std::string::npos ? std::size_t(0) : std::stoul(target.substr(at + k.size() + 1));
            };
            std::size_t skip = param("skip"), total = 30;
            std::size_t count = skip >= total ? 0 : std::min<std::size_t>({param("limit"), 7, total - skip});
            json::array page;
            for (std::size_t i = skip; i < skip + count; ++i)
                page.push_back(json::object{{"id", static_cast<std::int64_t>(i + 1)}});
            auto res = web::json_response(req, http::status::ok, page);
            res.set("vnd.tinkermode.range", count == 0 ? "*/30" : std::to_string(skip) + "-" + std::to_string(skip + count - 1) + "/30");
            co_return res;
        });
        // A page whose range does not match its items.
        routes.add(http::verb::get, "/liar", [](web::request& req, web::request_context&) -> net::awaitable<web::response> {
            auto res = web::json_response(req, http::status::ok, json::array{json::object{{"id", 1}}});
            res.set("vnd.tinkermode.range", "0-4/10");
            co_return res;
        });
        srv.start();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(srv.local_endpoint().port()); }

    net::io_context ioc;
    web::router routes;
    web::server srv{ioc, {net::ip::make_address("127.0.0.1"), 0}, {}, routes.as_handler()};
    std::string seen_auth, seen_body, seen_type;
    std::vector<std::string> seen_targets;
};

template <class F>
void run(net::io_context& ioc, F f)
{
    bool done = false;
    std::exception_ptr error;
    ioc.restart();
    net::co_spawn(ioc, f(), [&](std::exception_ptr e) {
        done = true;
        error = e;
        ioc.stop(); // the server would keep run_for busy until its limit
    });
    ioc.run_for(std::chrono::seconds(10));
    BOOST_REQUIRE(done);
    if (error)
        std::rethrow_exception(error);
}

} // namespace

BOOST_AUTO_TEST_CASE(byou_calls_send_what_mode_expects)
{
    fake_mode m;
    common::client::http_client http(m.ioc.get_executor());
    mode::client c(http, m.url() + "/", std::chrono::seconds(2));
    run(m.ioc, [&]() -> net::awaitable<void> {
        auto id = co_await c.create_user("project-key", 5, "acct-1");
        BOOST_TEST(id == 77);
        BOOST_TEST(m.seen_auth == "ModeCloud project-key");
        auto body = json::parse(m.seen_body).as_object();
        BOOST_TEST(body.at("projectId").as_int64() == 5);
        BOOST_TEST(body.at("externalKey").as_string() == "acct-1");
        auto key = co_await c.issue_user_key("project-key", 5, 77);
        BOOST_TEST(key == "user-key-77");
        BOOST_TEST(m.seen_type == "application/x-www-form-urlencoded");
        BOOST_TEST(m.seen_body == "projectId=5&userId=77");
    });
}

namespace {

// The credential the failing calls below are made with: it must not appear in anything an error carries.
constexpr const char* secret_key = "k3y-Secret-9f2c41d";

std::string upper(std::string s)
{
    for (auto& c : s)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    return s;
}

// Every text of the error and of the problem the gateway would answer with, searched for the key itself
// (any case: MODE's reason is upper-cased and its '-' become '_'), and for the header's scheme.
void expect_no_credential(const mode::error& e, const std::string& context)
{
    auto p = gateway::to_problem(e);
    std::vector<std::string> texts{e.what(), e.reason(), p.code(), p.detail()};
    for (const auto& [name, value] : p.headers())
        texts.push_back(name + ": " + value);
    std::string key = upper(secret_key), key_as_reason = key;
    std::replace(key_as_reason.begin(), key_as_reason.end(), '-', '_');
    for (const auto& t : texts) {
        auto u = upper(t);
        BOOST_TEST(u.find(key) == std::string::npos, context << ": the key is in \"" << t << "\"");
        BOOST_TEST(u.find(key_as_reason) == std::string::npos, context << ": the key is in \"" << t << "\"");
        BOOST_TEST(u.find("MODECLOUD") == std::string::npos, context << ": the header is in \"" << t << "\"");
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(answers_become_the_right_failures)
{
    fake_mode m;
    // Answers with MODE's error shape, its reason echoing the credential it was sent (a MODE that quotes
    // the request back must not make us quote it either), or with a body that is not JSON at all.
    m.routes.add(http::verb::get, "/echo/{code}", [](web::request& req, web::request_context& ctx) -> net::awaitable<web::response> {
        auto code = static_cast<unsigned>(std::stoi(ctx.params.at("code")));
        json::object body;
        body["reason"] = "BAD_KEY";
        body["message"] = std::string(req[http::field::authorization]);
        body["key"] = std::string(req[http::field::authorization]).substr(10);
        co_return web::json_response(req, static_cast<http::status>(code), body);
    });
    m.routes.add(http::verb::get, "/text/{code}", [](web::request& req, web::request_context& ctx) -> net::awaitable<web::response> {
        web::response res{static_cast<http::status>(std::stoi(ctx.params.at("code"))), req.version()};
        res.set(http::field::content_type, "text/plain");
        res.body() = "you sent " + std::string(req[http::field::authorization]);
        res.prepare_payload();
        co_return res;
    });
    common::client::http_client http(m.ioc.get_executor());
    mode::client c(http, m.url(), std::chrono::milliseconds(500));
    int checked = 0;
    auto expect = [&](std::string path, mode::failure kind, unsigned status, unsigned answer,
                      std::string code) -> net::awaitable<void> {
        bool threw = false;
        try {
            co_await c.call(http::verb::get, path, secret_key);
        } catch (const mode::error& e) {
            threw = true;
            ++checked;
            BOOST_TEST((e.kind() == kind), path);
            BOOST_TEST(e.status() == status, path);
            auto p = gateway::to_problem(e);
            BOOST_TEST(status_of(p) == answer, path);
            BOOST_TEST(p.code() == code, path);
            expect_no_credential(e, path);
        }
        BOOST_TEST(threw, path);
    };
    run(m.ioc, [&]() -> net::awaitable<void> {
        // 4xx with MODE's reason: passed through as MODE_<REASON>; 401 is our own key refused.
        co_await expect("/status/409", mode::failure::rejected, 409, 409, "MODE_DEVICE_OFFLINE");
        co_await expect("/echo/400", mode::failure::rejected, 400, 400, "MODE_BAD_KEY");
        co_await expect("/echo/401", mode::failure::rejected, 401, 502, "MODE_UNAVAILABLE");
        co_await expect("/echo/403", mode::failure::rejected, 403, 403, "MODE_BAD_KEY");
        co_await expect("/echo/404", mode::failure::rejected, 404, 404, "MODE_BAD_KEY");
        // 4xx without MODE's shape.
        co_await expect("/text/403", mode::failure::rejected, 403, 403, "MODE_ERROR");
        // 5xx, with and without a reason.
        co_await expect("/status/503", mode::failure::unavailable, 503, 503, "MODE_UNAVAILABLE");
        co_await expect("/status/500", mode::failure::unavailable, 500, 502, "MODE_UNAVAILABLE");
        co_await expect("/echo/502", mode::failure::unavailable, 502, 502, "MODE_UNAVAILABLE");
        co_await expect("/text/500", mode::failure::unavailable, 500, 502, "MODE_UNAVAILABLE");
        // Neither success nor error.
        co_await expect("/text/302", mode::failure::bad_answer, 302, 502, "MODE_UNAVAILABLE");
        // Success that is not JSON, and no answer in time.
        co_await expect("/garbage", mode::failure::bad_answer, 200, 502, "MODE_UNAVAILABLE");
        co_await expect("/slow", mode::failure::timeout, 0, 504, "MODE_TIMEOUT");
        // A list whose pages do not add up, and one that is not a list.
        for (std::string path : {"/liar", "/garbage"}) {
            bool threw = false;
            try {
                (void)co_await c.list_all(path, secret_key);
            } catch (const mode::error& e) {
                threw = true;
                ++checked;
                BOOST_TEST((e.kind() == mode::failure::bad_answer), path);
                expect_no_credential(e, "list_all " + path);
            }
            BOOST_TEST(threw, path);
        }
    });
    BOOST_TEST(checked == 15);
    // Unreachable.
    net::io_context ioc2;
    common::client::http_client http2(ioc2.get_executor());
    mode::client dead(http2, "http://127.0.0.1:1", std::chrono::seconds(1));
    run(ioc2, [&]() -> net::awaitable<void> {
        bool threw = false;
        try {
            co_await dead.call(http::verb::get, "/users/1", secret_key);
        } catch (const mode::error& e) {
            threw = true;
            BOOST_TEST((e.kind() == mode::failure::unavailable));
            auto p = gateway::to_problem(e);
            BOOST_TEST(status_of(p) == 503U);
            BOOST_TEST(p.code() == "MODE_UNAVAILABLE");
            expect_no_credential(e, "unreachable");
        }
        BOOST_TEST(threw);
    });
}

BOOST_AUTO_TEST_CASE(range_headers_are_read_strictly)
{
    auto r = mode::parse_range("0-24/30");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->first == 0U);
    BOOST_TEST(r->last == 24U);
    BOOST_TEST(r->count == 25U);
    BOOST_TEST(r->total == 30U);
    r = mode::parse_range("25-29/30");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->count == 5U);
    r = mode::parse_range("*/0");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->count == 0U);
    BOOST_TEST(r->total == 0U);
    for (const char* bad : {"", "0-24", "24-0/30", "0-30/30", "a-b/c", "-1-3/5", "0-3/", "*/", "0-3/5x"})
        BOOST_TEST(!mode::parse_range(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(a_paged_list_is_read_to_its_end)
{
    fake_mode m;
    common::client::http_client http(m.ioc.get_executor());
    mode::client c(http, m.url(), std::chrono::seconds(2));
    run(m.ioc, [&]() -> net::awaitable<void> {
        // MODE gives fewer than asked per page: the range header, not the page size, says where to go on.
        auto all = co_await c.list_all("/things?homeId=4", "user-key", 25);
        BOOST_TEST_REQUIRE(all.size() == 30U);
        for (std::size_t i = 0; i < all.size(); ++i)
            BOOST_TEST(all[i].at("id").as_int64() == static_cast<std::int64_t>(i + 1));
        BOOST_TEST(m.seen_targets.size() == 5U); // 7+7+7+7+2
        BOOST_TEST(m.seen_targets.front() == "/things?homeId=4&skip=0&limit=25");
        BOOST_TEST(m.seen_targets.back() == "/things?homeId=4&skip=28&limit=25");
        // A page that does not add up is a bad answer, not a short list.
        bool threw = false;
        try {
            (void)co_await c.list_all("/liar", "user-key");
        } catch (const mode::error& e) {
            threw = e.kind() == mode::failure::bad_answer;
        }
        BOOST_TEST(threw);
    });
}

// The endpoint label of MODE call metrics stays bounded: no ids, keys, names or queries.
BOOST_AUTO_TEST_CASE(endpoint_templates_hold_no_ids)
{
    BOOST_TEST(mode::endpoint_template("/homes/12/members/345") == "/homes/{id}/members/{id}");
    BOOST_TEST(mode::endpoint_template("/homes?userId=7&skip=0&limit=100") == "/homes");
    BOOST_TEST(mode::endpoint_template("/devices/9/command") == "/devices/{id}/command");
    BOOST_TEST(mode::endpoint_template("/auth/user") == "/auth/user");
    BOOST_TEST(mode::endpoint_template("/homes/12/kv/My-Key") == "/homes/{id}/kv/{id}");
    BOOST_TEST(mode::endpoint_template("/a/b/c/d/e/f/g/h/i/j") == "/a/b/c/d/e/f/g/h/...");
    BOOST_TEST(mode::endpoint_template("") == "/");
}

BOOST_AUTO_TEST_SUITE_END()
