#pragma once

#include "support/process.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace test {

/** A modebridge executable (or the emulator) running as a child process on a loopback port. */
struct running_service
{
    std::unique_ptr<process> proc;
    unsigned short port = 0;
    std::map<std::string, std::string> env; // what it was started with
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

/** Env for the MODE emulator; `extra` overrides. Waits until it accepts connections. */
running_service start_mode_sim(std::map<std::string, std::string> extra = {});

/**
 * The gateway against `database_url`, the emulator at `mode_url`, and the test stack's Redis and SMTP
 * sink. With `wait_ready`, returns once /readyz answers 200 (fails the test after 30 s).
 */
running_service start_gateway(const std::string& database_url, const std::string& mode_url,
                              std::map<std::string, std::string> extra = {}, bool wait_ready = true);

/** webhook-ingest against `database_url` and the stack's Redis. */
running_service start_ingest(const std::string& database_url, std::map<std::string, std::string> extra = {},
                             bool wait_ready = true);

/** Polls GET /readyz until 200; false on timeout or when the process exits. */
bool wait_until_ready(running_service& s, std::chrono::milliseconds timeout = std::chrono::seconds(30));

/** A fresh 32-byte key, base64, for MB_SECRET_KEY. Each gateway gets its own unless the test passes one
    (instances of one deployment share it), which also keeps concurrent tests' rate-limit keys apart. */
std::string random_secret_key();

} // namespace test
