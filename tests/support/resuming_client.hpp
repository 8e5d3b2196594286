#pragma once

// A live client as an app would write one: it keeps one user's stream open, and whenever the stream ends
// (dropped on purpose, closed by the server, refused) it reconnects with `after` set to the highest seq it
// received, to the same gateway or, when that one refuses, the next of the ones it knows. It records every
// event frame, so a test can compare what it received with the stored events.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace test {

struct resuming_options
{
    bool random_drops = true; // drop the stream after 3 to 40 events, half the time without a close frame
    unsigned seed = 1;
};

/** Runs on a thread of its own; every accessor is thread-safe. */
class resuming_client
{
public:
    resuming_client(std::vector<unsigned short> ports, std::string token, resuming_options o = {});
    ~resuming_client();
    resuming_client(const resuming_client&) = delete;
    resuming_client& operator=(const resuming_client&) = delete;

    void stop();

    /** The lastSeq of the first `ready`: what the client's history starts after. */
    std::optional<std::int64_t> start() const;
    /** Every event seq received, in the order received, across connections. */
    std::vector<std::int64_t> received() const;
    /** Connections opened (each one a `ready`). */
    int connections() const { return connections_.load(); }
    /** The close codes the server sent, one per stream it ended. */
    std::vector<std::uint16_t> server_closes() const;
    /** Empty, or what went wrong: an event at or below one already received on the same connection. */
    std::string failure() const;

private:
    void run();

    std::vector<unsigned short> ports_;
    std::string token_;
    resuming_options options_;
    std::mt19937 rng_;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::optional<std::int64_t> start_;
    std::vector<std::int64_t> received_;
    std::vector<std::uint16_t> server_closes_;
    std::string failure_;
    std::thread thread_;
};

} // namespace test
