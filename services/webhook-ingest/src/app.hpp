#pragma once

#include "settings.hpp"

#include <memory>

namespace ingest {

/** The webhook-ingest process: serves until SIGTERM/SIGINT, then shuts down gracefully. */
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

} // namespace ingest
