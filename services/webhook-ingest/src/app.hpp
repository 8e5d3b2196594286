#pragma once

#include "settings.hpp"

#include <memory>

namespace common::web {
class router;
}

namespace ingest {

/**
 * The webhook-ingest process: serves until SIGTERM/SIGINT, then shuts down gracefully. `run` returns the
 * process exit code. Built and run on the main thread, which then serves the io_context with the others
 * (MB_THREADS in all); the database work runs on the pool's workers. Thread-safety: none needed (one
 * instance, used by main only).
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

} // namespace ingest
