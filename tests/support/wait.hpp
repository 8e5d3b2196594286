#pragma once

// Polling for tests that watch another thread (a server run in the background, an emulator) reach a
// state: bounded, so a bug fails the test instead of hanging it.

#include <chrono>
#include <functional>
#include <thread>

namespace test {

/** Polls `pred` every 5 ms until it holds (true) or `limit` has passed (false). Blocks the caller. */
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::seconds(10))
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

} // namespace test
