// modebridge-gateway: accounts, MODE actions on the user's behalf, and live events for client apps.
#include "app.hpp"

#include "common/app_runner.hpp"
#include "common/crypto/crypto.hpp"
#include "common/log.hpp"

int main()
{
    return common::service_main("gateway", [] {
        common::crypto::init();
        auto s = gateway::load_settings(common::config::env{});
        common::log::init("gateway", common::log::parse_level(s.service.log_level));
        gateway::app app(std::move(s));
        return app.run();
    });
}
