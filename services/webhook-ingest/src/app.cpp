#include "app.hpp"

#include "common/service_host.hpp"

namespace ingest {

struct app::impl
{
    explicit impl(settings s)
        : cfg(std::move(s))
        , host("ingest", cfg.service, {})
    {
    }

    int run() { return host.run(nullptr, nullptr); }

    settings cfg;
    common::service_host host;
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

} // namespace ingest
