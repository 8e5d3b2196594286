// mode-sim: the local MODE cloud emulator (see mode-api.md, "The emulator"). Settings from MODESIM_*.

#include "app.hpp"

#include "common/app_runner.hpp"
#include "common/config.hpp"
#include "common/log.hpp"

#include <chrono>
#include <exception>

using namespace common::aliases;

int main()
{
    common::log::init("mode-sim", common::log::level::info);
    try {
        auto settings = modesim::load_settings(common::config::env{});
        common::log::init("mode-sim", settings.log_level);
        common::app_runner runner(settings.threads);
        modesim::app app(runner.ioc(), settings);
        app.start();
        return runner.run([&app]() -> net::awaitable<void> { co_await app.shutdown(std::chrono::seconds(5)); });
    } catch (const std::exception& e) {
        common::log::error("sim.fatal", {{"error", e.what()}});
        return 1;
    }
}
