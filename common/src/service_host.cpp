#include "common/service_host.hpp"

#include "common/db/migrations.hpp"
#include "common/log.hpp"
#include "common/web/health.hpp"
#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace common {

namespace {

db::pool_options pool_options(const std::string& name, const config::service_settings& s,
                              std::vector<std::pair<std::string, std::string>> statements, metrics::registry& m)
{
    db::pool_options o;
    o.url = s.database_url;
    o.size = s.db_pool_size;
    o.statement_timeout = s.db_timeout;
    o.queue_timeout = s.db_timeout;
    o.application_name = "modebridge-" + name;
    o.statements = std::move(statements);
    o.metrics = &m;
    return o;
}

bool is_health_path(std::string_view path)
{
    return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

} // namespace

std::function<void(std::exception_ptr)> service_host::log_failure(std::string what)
{
    return [what = std::move(what)](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log::error(what, {{"error", ex.what()}});
        }
    };
}

service_host::service_host(std::string name, const config::service_settings& s,
                           std::vector<std::pair<std::string, std::string>> statements)
    : name_(std::move(name))
    , settings_(s)
    , runner_(s.threads)
    , metrics_(std::make_shared<metrics::registry>())
    , db_(pool_options(name_, s, std::move(statements), *metrics_))
    , redis_(runner_.ioc().get_executor(), redis::parse_url(s.redis_url))
{
    std::vector<web::readiness_check> checks(2);
    checks[0].name = "database";
    checks[0].probe = [this]() -> net::awaitable<bool> {
        if (!migrated_.load())
            co_return false;
        co_return co_await db_.ping();
    };
    checks[1].name = "redis";
    checks[1].probe = [this]() -> net::awaitable<bool> {
        if (!redis_.connected())
            co_return false;
        std::vector<std::string> ping{std::string("PING")};
        auto r = co_await redis_.command(std::move(ping));
        co_return !r.is_error();
    };
    web::add_health_routes(routes_, metrics_, std::move(checks), std::chrono::milliseconds(2000),
                           [this] { return stopping_.load(); });
    redis_.count_reconnects_on(
        metrics_->counter_for("mb_redis_reconnects_total", redis::reconnects_help, {{"connection", "commands"}}));
    metrics_->add_callback_gauge("mb_db_pool_waiting", "Database jobs waiting for a pool connection",
                                 [this] { return static_cast<double>(db_.waiting()); });

    web::set_json_limits({s.json_max_depth, s.json_max_members});
    web::server_options o;
    o.body_limit = s.body_limit;
    o.header_limit = s.header_limit;
    o.url_limit = s.url_limit;
    o.ws_message_limit = s.ws_message_limit;
    o.connections_per_address = s.connections_per_address;
    o.header_timeout = s.header_timeout;
    o.body_timeout = s.body_timeout;
    o.idle_timeout = s.idle_timeout;
    o.ws_idle_timeout = s.ws_idle_timeout;
    o.ws_write_timeout = s.ws_write_timeout;
    o.shards = s.threads; // one per I/O thread
    if (!s.tls_cert_file.empty())
        o.tls = web::load_server_tls(s.tls_cert_file, s.tls_key_file);
    auto handler = [this](web::request& req, web::request_context& ctx) {
        auto path = web::target_path(std::string_view(req.target().data(), req.target().size()));
        // Until the schema is in place, only the health routes answer.
        if (!migrated_.load() && !is_health_path(path))
            throw web::service_unavailable("STORE_UNAVAILABLE", "the service is starting; try again shortly", 2);
        return routes_.dispatch(req, ctx);
    };
    server_ = std::make_unique<web::server>(runner_.ioc(), s.listen, std::move(o), std::move(handler), metrics_);
}

service_host::~service_host()
{
    db_.join();
}

int service_host::run(std::function<net::awaitable<void>()> after_migrations,
                      std::function<net::awaitable<void>()> on_shutdown)
{
    server_->start();
    redis_.start();
    auto ep = server_->local_endpoint();
    log::info("service.listening", {{"address", ep.address().to_string()},
                                    {"port", ep.port()},
                                    {"tls", !settings_.tls_cert_file.empty()}});
    auto startup = [this, after_migrations]() -> net::awaitable<void> {
        co_await db::migrate_until_done(db_, migrated_, stopping_);
        if (migrated_ && after_migrations)
            co_await after_migrations();
    };
    net::co_spawn(runner_.ioc(), std::move(startup), log_failure("service.startup"));
    if (!settings_.tls_cert_file.empty())
        runner_.on_reload([this] {
            // A renewed certificate (SIGHUP): new connections get it; a file that does not load leaves
            // the one in use serving.
            try {
                server_->replace_tls(web::load_server_tls(settings_.tls_cert_file, settings_.tls_key_file));
                log::info("tls.reloaded", {{"cert_file", settings_.tls_cert_file}});
            } catch (const std::exception& e) {
                log::error("tls.reload_failed", {{"error", e.what()}});
            }
        });
    int code = runner_.run([this, on_shutdown]() -> net::awaitable<void> {
        stopping_ = true; // /readyz answers 503 from here on
        if (settings_.shutdown_delay.count() > 0) {
            // Still serving everything, new connections included, while load balancers notice.
            log::info("service.draining", {{"delay_ms", static_cast<std::int64_t>(settings_.shutdown_delay.count())}});
            net::steady_timer wait(co_await net::this_coro::executor);
            wait.expires_after(settings_.shutdown_delay);
            co_await wait.async_wait(net::as_tuple(net::use_awaitable));
        }
        co_await server_->shutdown(settings_.shutdown_grace);
        if (on_shutdown)
            co_await on_shutdown();
        redis_.stop();
    });
    db_.join();
    return code;
}

} // namespace common
