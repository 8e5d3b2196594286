#include "common/web/health.hpp"

#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

namespace common::web {

namespace {

// A probe that does not answer in time counts as failed.
net::awaitable<bool> bounded(const readiness_check& c, std::chrono::milliseconds timeout)
{
    using namespace net::experimental::awaitable_operators;
    net::steady_timer timer(co_await net::this_coro::executor, timeout);
    try {
        auto r = co_await (c.probe() || timer.async_wait(net::as_tuple(net::use_awaitable)));
        co_return r.index() == 0 && std::get<0>(r);
    } catch (const std::exception&) {
        co_return false;
    }
}

} // namespace

void add_health_routes(router& r, std::shared_ptr<metrics::registry> m, std::vector<readiness_check> checks,
                       std::chrono::milliseconds timeout)
{
    r.add(http::verb::get, "/healthz", [](request& req, request_context&) -> net::awaitable<response> {
        co_return json_response(req, http::status::ok, json::object{{"status", "ok"}});
    });

    auto shared_checks = std::make_shared<std::vector<readiness_check>>(std::move(checks));
    r.add(http::verb::get, "/readyz",
          [shared_checks, timeout](request& req, request_context&) -> net::awaitable<response> {
              json::object parts;
              std::string failing;
              // Probes are cheap and few; running them one after another keeps this simple and each
              // is bounded by the timeout.
              for (const auto& c : *shared_checks) {
                  bool ok = co_await bounded(c, timeout);
                  parts[c.name] = ok ? "ok" : "unavailable";
                  if (!ok)
                      failing += (failing.empty() ? "" : ", ") + c.name;
              }
              if (failing.empty())
                  co_return json_response(req, http::status::ok, json::object{{"status", "ready"}, {"checks", parts}});
              json::object body{{"type", "about:blank"},
                                {"title", "Service Unavailable"},
                                {"status", 503},
                                {"detail", "not ready: " + failing + " unavailable"},
                                {"code", "NOT_READY"},
                                {"checks", parts}};
              response res{http::status::service_unavailable, req.version()};
              res.set(http::field::content_type, "application/problem+json");
              res.set(http::field::retry_after, "5");
              res.body() = json::serialize(body);
              res.keep_alive(req.keep_alive());
              res.prepare_payload();
              co_return res;
          });

    r.add(http::verb::get, "/metrics", [m](request& req, request_context&) -> net::awaitable<response> {
        response res{http::status::ok, req.version()};
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = m->render();
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        co_return res;
    });
}

} // namespace common::web
