#pragma once

#include "common/redis/connection.hpp"
#include "support/process.hpp"

#include <optional>
#include <string>
#include <vector>

namespace test {

/**
 * A private redis-server for one test, on a free loopback port, keeping no data (no RDB, no AOF). It
 * can be killed and started again on the same port, as a new process with an empty data set and script
 * cache, or frozen with SIGSTOP. Failures fail the test (BOOST_REQUIRE). The destructor kills it.
 * Not thread-safe; use from the test's thread.
 */
class redis_server
{
public:
    /** Starts it at once; `extra_args` go after ours (e.g. {"--requirepass", "secret"}). */
    explicit redis_server(std::vector<std::string> extra_args = {});

    /** Starts it again after kill(), on the same port; returns when it accepts connections. */
    void start();
    /** SIGKILL, and waits for the exit. */
    void kill();
    /** Sends `sig` (SIGSTOP / SIGCONT to freeze and thaw it). */
    void signal(int sig);

    unsigned short port() const { return port_; }

    /** A connection config for it: 127.0.0.1, its port, the other settings at their defaults. */
    common::redis::config config() const
    {
        common::redis::config cfg;
        cfg.host = "127.0.0.1";
        cfg.port = port_;
        return cfg;
    }

private:
    unsigned short port_;
    std::vector<std::string> extra_args_;
    std::optional<process> proc_;
};

} // namespace test
