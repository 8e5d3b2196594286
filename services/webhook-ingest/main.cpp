// modebridge-ingest: receives MODE's signed event webhooks, stores them durably, publishes them on Redis.
#include "app.hpp"

#include "common/app_runner.hpp"
#include "common/crypto/crypto.hpp"
#include "common/log.hpp"

int main()
{
    return common::service_main("ingest", [] {
        common::crypto::init();
        auto s = ingest::load_settings(common::config::env{});
        common::log::init("ingest", common::log::parse_level(s.service.log_level));
        ingest::app app(std::move(s));
        return app.run();
    });
}
