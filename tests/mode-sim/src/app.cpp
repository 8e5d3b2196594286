#include "app.hpp"

#include "render.hpp"
#include "routes.hpp"

#include "common/web/health.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace modesim {

using common::web::request;
using common::web::request_context;
using common::web::response;

settings load_settings(const common::config::env& e)
{
    settings s;
    s.listen = e.listen("MODESIM_LISTEN", "127.0.0.1:8090");
    s.project_id = e.integer("MODESIM_PROJECT_ID", 1, 1, INT64_MAX);
    s.project_key = e.optional_secret("MODESIM_PROJECT_KEY").value_or("sim-project-key");
    s.plain_project_key = e.optional_secret("MODESIM_PLAIN_PROJECT_KEY").value_or("sim-plain-key");
    if (s.project_key.empty())
        common::config::env::fail("MODESIM_PROJECT_KEY", "must not be empty");
    if (s.plain_project_key == s.project_key)
        common::config::env::fail("MODESIM_PLAIN_PROJECT_KEY", "must differ from MODESIM_PROJECT_KEY");
    if (e.optional("MODESIM_WEBHOOK_URL"))
        s.webhook_url = e.url("MODESIM_WEBHOOK_URL", {"http", "https"}, std::nullopt, "an http(s) URL");
    s.webhook_key = e.optional_secret("MODESIM_WEBHOOK_KEY");
    if (s.webhook_url && !s.webhook_key)
        common::config::env::fail("MODESIM_WEBHOOK_KEY", "is required when MODESIM_WEBHOOK_URL is set");
    s.webhook_timeout = e.duration("MODESIM_WEBHOOK_TIMEOUT", s.webhook_timeout);
    s.webhook_retry_min = e.duration("MODESIM_WEBHOOK_RETRY_MIN", s.webhook_retry_min);
    s.webhook_retry_max = e.duration("MODESIM_WEBHOOK_RETRY_MAX", s.webhook_retry_max);
    s.webhook_give_up = e.duration("MODESIM_WEBHOOK_GIVE_UP", s.webhook_give_up);
    if (s.webhook_timeout.count() <= 0)
        common::config::env::fail("MODESIM_WEBHOOK_TIMEOUT", "must be positive");
    if (s.webhook_retry_min.count() <= 0)
        common::config::env::fail("MODESIM_WEBHOOK_RETRY_MIN", "must be positive");
    if (s.webhook_retry_max < s.webhook_retry_min)
        common::config::env::fail("MODESIM_WEBHOOK_RETRY_MAX", "must not be less than MODESIM_WEBHOOK_RETRY_MIN");
    s.state_file = e.optional("MODESIM_STATE_FILE");
    s.threads = static_cast<std::size_t>(e.integer("MODESIM_THREADS", 2, 1, 64));
    try {
        s.log_level = common::log::parse_level(e.get("MODESIM_LOG_LEVEL", "info"));
    } catch (const std::invalid_argument&) {
        common::config::env::fail("MODESIM_LOG_LEVEL", "must be debug, info, warn or error");
    }
    return s;
}

std::optional<webhook_options> webhook_options_from(const settings& s)
{
    if (!s.webhook_url || !s.webhook_key)
        return std::nullopt;
    webhook_options o;
    o.url = *s.webhook_url;
    o.key = *s.webhook_key;
    o.project_id = s.project_id;
    o.timeout = s.webhook_timeout;
    o.retry_min = s.webhook_retry_min;
    o.retry_max = s.webhook_retry_max;
    o.give_up = s.webhook_give_up;
    return o;
}

namespace {

state_options state_options_from(const settings& s)
{
    state_options o;
    o.project_id = s.project_id;
    o.byou_key = s.project_key;
    o.plain_key = s.plain_project_key;
    return o;
}

} // namespace

app::app(net::io_context& ioc, settings s)
    : settings_(std::move(s))
    , state_(state_options_from(settings_))
    , webhooks_(ioc.get_executor(), webhook_options_from(settings_))
    , metrics_(std::make_shared<common::metrics::registry>())
    , server_(ioc, settings_.listen, common::web::server_options{},
              [this](request& req, request_context& ctx) { return handle(req, ctx); }, metrics_)
{
    add_user_routes(router_, state_);
    add_home_routes(router_, state_);
    add_device_routes(router_, state_);
    add_sim_routes(router_, state_, faults_, webhooks_);
    add_websocket_routes(router_, state_);
    common::web::add_health_routes(router_, metrics_, {});
    state_.set_event_listener([this](const event_record& e) { on_event(e); });
    if (settings_.state_file) {
        std::ifstream in(*settings_.state_file, std::ios::binary);
        if (in) {
            std::ostringstream text;
            text << in.rdbuf();
            state_.restore(boost::json::parse(text.str()));
            common::log::info("sim.state_restored", {{"file", *settings_.state_file}});
        }
    }
}

void app::save_state()
{
    if (!settings_.state_file)
        return;
    std::lock_guard lock(save_mutex_);
    auto text = boost::json::serialize(state_.snapshot());
    const auto temp = *settings_.state_file + ".new";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out.flush())
            throw std::runtime_error("cannot write " + temp);
    }
    if (std::rename(temp.c_str(), settings_.state_file->c_str()) != 0)
        throw std::runtime_error("cannot replace " + *settings_.state_file);
}

void app::start()
{
    server_.start();
    auto ep = server_.local_endpoint();
    common::log::info("sim.started", {{"address", ep.address().to_string()},
                                      {"port", ep.port()},
                                      {"project_id", settings_.project_id},
                                      {"webhook", settings_.webhook_url.has_value()}});
}

boost::asio::ip::tcp::endpoint app::local_endpoint() const
{
    return server_.local_endpoint();
}

net::awaitable<void> app::shutdown(std::chrono::milliseconds grace)
{
    co_await server_.shutdown(grace);
    // After the server: events raised by requests finishing in the grace period are still delivered (or
    // at least tried once); whatever then waits for a retry is abandoned.
    webhooks_.shutdown();
}

void app::on_event(const event_record& e)
{
    // The /userSession/websocket streams have it already (state::record_event picks them under its lock,
    // membership at emission time); the Webhooks Smart Module starts its delivery here and returns at once.
    webhooks_.deliver(e);
    common::log::debug("sim.event", {{"event_type", e.event_type},
                                     {"device_id", e.origin_device_id},
                                     {"home_id", e.home_id ? *e.home_id : 0}});
}

net::awaitable<response> app::handle(request& req, request_context& ctx)
{
    auto path = common::web::target_path(std::string_view(req.target().data(), req.target().size()));
    std::optional<fault_action> fault;
    if (!is_control_path(path))
        fault = faults_.take(std::string_view(req.method_string().data(), req.method_string().size()), path);
    if (fault && fault->delay.count() > 0) {
        // A timer on the connection's strand: the wait holds up this request only, never a thread.
        net::steady_timer timer(co_await net::this_coro::executor, fault->delay);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
    response res;
    if (fault && fault->status)
        res = mode_error(req.version(), req.keep_alive(),
                         sim_error(static_cast<http::status>(*fault->status), fault->reason));
    else
        res = co_await dispatch(req, ctx);
    // What changed is on disk before the caller hears of it, so a killed emulator comes back with it.
    if (req.method() != http::verb::get && req.method() != http::verb::head && res.result_int() < 400 && !ctx.websocket)
        save_state();
    add_cors_headers(res);
    co_return res;
}

net::awaitable<response> app::dispatch(request& req, request_context& ctx)
{
    std::optional<sim_error> error;
    std::vector<std::pair<std::string, std::string>> headers;
    try {
        response res = co_await router_.dispatch(req, ctx);
        // The router accepted a websocket upgrade: the key decides, before the handshake, whether there is one.
        if (ctx.websocket)
            check_websocket_upgrade(state_, req, ctx);
        co_return res;
    } catch (const sim_error& e) {
        error = e;
    } catch (const common::web::problem& p) {
        // The router's own 404 NOT_FOUND / 405 METHOD_NOT_ALLOWED (with Allow), in MODE's shape.
        error = sim_error(p.status(), p.code());
        headers = p.headers();
    } catch (const std::exception& e) {
        common::log::error("sim.handler", {{"request_id", ctx.request_id}, {"error", e.what()}});
        error = sim_error(http::status::internal_server_error, reason::internal_error);
    }
    ctx.websocket.reset(); // an error answer is never a handshake
    response res = mode_error(req.version(), req.keep_alive(), *error);
    for (auto& [name, value] : headers)
        res.set(name, value);
    co_return res;
}

} // namespace modesim
