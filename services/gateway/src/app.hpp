#pragma once

#include "settings.hpp"

#include <memory>

namespace gateway {

/**
 * The gateway process: builds every part from the settings, serves until SIGTERM/SIGINT, then shuts
 * down gracefully. `run` returns the process exit code.
 */
class app
{
public:
    explicit app(settings s);
    ~app();
    int run();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace gateway
