#include "common/web/health.hpp"

#include "common/log.hpp"
#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <optional>

namespace common::web {

namespace {

/** One /readyz round, shared with the probes because they may outlive the request. */
struct probe_round
{
    probe_round(const net::any_io_executor& ex, std::size_t n)
        : timer(ex)
        , results(n)
        , pending(n)
    {
    }
    net::steady_timer timer;
    std::vector<std::optional<bool>> results;
    std::size_t pending;
};

// Runs every probe at once and waits until all have answered or the timeout passes. The probes run
// detached from the wait: one that ignores cancellation (a blocking call on a worker pool, a hung
// connection) must not hold the answer. A probe that has not answered in time counts as failed.
// Everything runs on the caller's executor (the connection's strand), so `probe_round` needs no lock.
net::awaitable<std::vector<bool>> run_probes(const std::vector<readiness_check>& checks,
                                             std::chrono::milliseconds timeout)
{
    auto exec = co_await net::this_coro::executor;
    auto round = std::make_shared<probe_round>(exec, checks.size());
    round->timer.expires_after(timeout);
    for (std::size_t i = 0; i < checks.size(); ++i) {
        net::co_spawn(exec, checks[i].probe(), [round, i, name = checks[i].name](std::exception_ptr e, bool ok) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& failure) {
                    log::warn("http.readyz_probe", {{"check", name}, {"error", failure.what()}});
                } catch (...) {
                    log::warn("http.readyz_probe", {{"check", name}});
                }
            }
            round->results[i] = !e && ok;
            if (--round->pending == 0)
                round->timer.cancel();
        });
    }
    if (round->pending > 0)
        co_await round->timer.async_wait(net::as_tuple(net::use_awaitable));
    std::vector<bool> out;
    for (const auto& r : round->results)
        out.push_back(r.value_or(false));
    co_return out;
}

} // namespace

namespace {

response not_ready(const request& req, const std::string& code, const std::string& detail, json::object checks)
{
    json::object body{{"type", "about:blank"},
                      {"title", "Service Unavailable"},
                      {"status", 503},
                      {"detail", detail},
                      {"code", code}};
    if (!checks.empty())
        body["checks"] = std::move(checks);
    response res{http::status::service_unavailable, req.version()};
    res.set(http::field::content_type, "application/problem+json");
    res.set(http::field::retry_after, "5");
    res.body() = json::serialize(body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

} // namespace

void add_health_routes(router& r, std::shared_ptr<metrics::registry> m, std::vector<readiness_check> checks,
                       std::chrono::milliseconds timeout, std::function<bool()> draining)
{
    r.add(http::verb::get, "/healthz", [](request& req, request_context&) -> net::awaitable<response> {
        co_return json_response(req, http::status::ok, json::object{{"status", "ok"}});
    });

    auto shared_checks = std::make_shared<std::vector<readiness_check>>(std::move(checks));
    r.add(http::verb::get, "/readyz",
          [shared_checks, timeout, draining](request& req, request_context&) -> net::awaitable<response> {
              if (draining && draining())
                  co_return not_ready(req, "SHUTTING_DOWN", "shutting down: send new work elsewhere", {});
              json::object parts;
              std::string failing;
              auto ok = co_await run_probes(*shared_checks, timeout);
              for (std::size_t i = 0; i < shared_checks->size(); ++i) {
                  const auto& name = (*shared_checks)[i].name;
                  parts[name] = ok[i] ? "ok" : "unavailable";
                  if (!ok[i])
                      failing += (failing.empty() ? "" : ", ") + name;
              }
              if (failing.empty())
                  co_return json_response(req, http::status::ok, json::object{{"status", "ready"}, {"checks", parts}});
              co_return not_ready(req, "NOT_READY", "not ready: " + failing + " unavailable", std::move(parts));
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
