#pragma once

#include "settings.hpp"

#include <memory>

namespace common::web {
class router;
}

namespace gateway {

/**
 * The gateway process: builds every part from the settings, serves until SIGTERM/SIGINT, then shuts
 * down gracefully. `run` returns the process exit code. Each slice gets what it uses, explicitly: app.cpp
 * is the one place that knows every part. Built and run on the main thread, which then serves the
 * io_context with the others. Thread-safety: none needed (one instance, used by main only).
 */
class app
{
public:
    explicit app(settings s);
    ~app();
    int run();

    /** The routes this process serves, as wired above (health ones included); read before `run`. */
    const common::web::router& routes() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace gateway
