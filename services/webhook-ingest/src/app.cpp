#include "app.hpp"

#include "event_publisher.hpp"
#include "event_store.hpp"
#include "webhook_handler.hpp"

#include "common/service_host.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>

namespace ingest {

namespace {

std::vector<std::pair<std::string, std::string>> all_statements()
{
    auto out = event_store::statements();
    auto more = event_publisher::statements();
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

} // namespace

struct app::impl
{
    explicit impl(settings s)
        : cfg(std::move(s))
        , host("ingest", cfg.service, all_statements())
        , store(net::make_strand(host.ioc()), host.db(), host.metrics())
        , publisher(net::make_strand(host.ioc()), host.redis(), host.db(), host.metrics())
    {
        store.on_committed([this](std::vector<stored_event> events) { publisher.committed(std::move(events)); });
        add_webhook_route(host.routes(), cfg, store, host.metrics());
    }

    int run()
    {
        net::co_spawn(store.executor(), store.run(), common::service_host::log_failure("events.writer"));
        return host.run(
            [this]() -> net::awaitable<void> {
                net::co_spawn(publisher.executor(), publisher.run(), common::service_host::log_failure("events.publisher"));
                co_return;
            },
            [this]() -> net::awaitable<void> {
                // Requests in flight have been answered (their events committed) before this runs.
                store.stop();
                publisher.stop();
                co_return;
            });
    }

    settings cfg;
    common::service_host host;
    event_store store;
    event_publisher publisher;
};

app::app(settings s)
    : impl_(std::make_unique<impl>(std::move(s)))
{
}

app::~app() = default;

int app::run()
{
    return impl_->run();
}

const common::web::router& app::routes() const
{
    return impl_->host.routes();
}

} // namespace ingest
