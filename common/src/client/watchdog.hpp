#pragma once

// Internal to common_client, used by http_client.cpp only: the deadline of one exchange, enforced by
// closing its connection.

#include "client/connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace common::client::detail {

/**
 * Closes the connection when the armed deadline passes, so that whatever operation is pending
 * completes (with operation_aborted) and fired() tells why. Lives on the connection's strand;
 * re-arming or destroying it guarantees an earlier expiry can no longer close anything.
 */
class watchdog
{
public:
    watchdog(const net::any_io_executor& ex, std::shared_ptr<connection> conn)
        : timer_(ex)
        , state_(std::make_shared<state>())
        , conn_(std::move(conn))
    {}
    ~watchdog() { ++state_->generation; }
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    void arm(std::chrono::steady_clock::time_point at)
    {
        const auto gen = ++state_->generation;
        timer_.expires_at(at);
        // The expiry may already be queued when we re-arm; the generation check discards it.
        timer_.async_wait([st = state_, conn = conn_, gen](boost::system::error_code ec) {
            if (ec || st->generation != gen)
                return;
            st->fired = true;
            conn->close();
        });
    }
    bool fired() const noexcept { return state_->fired; }

private:
    struct state
    {
        std::uint64_t generation = 0;
        bool fired = false;
    };
    net::steady_timer timer_;
    std::shared_ptr<state> state_;
    std::shared_ptr<connection> conn_;
};

} // namespace common::client::detail
