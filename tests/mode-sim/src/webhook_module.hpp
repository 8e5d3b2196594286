#pragma once

// The Webhooks Smart Module (mode-api.md, "Webhooks Smart Module"): every event of a device in a home is
// POSTed, signed, to the project's Event Webhook. Delivery is asynchronous (the device's PUT .../event never
// waits for it), retried with exponential backoff on non-2xx answers, timeouts and connection failures, and
// recorded for GET /_sim/webhooks. The pure policy (what an answer means, how long to wait, what is sent) is
// in free functions so it is tested without sockets.

#include "model.hpp"

#include "common/client/http_client.hpp"
#include "common/net/aliases.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modesim {

using namespace common::aliases;

/** The Event Webhook and how hard the module tries (MODESIM_WEBHOOK_*). */
struct webhook_options
{
    std::string url;                            // signed exactly as configured, never rebuilt
    std::string key;                            // the HMAC key; never logged
    std::int64_t project_id = 1;                // X-Mode-ProjectID
    std::string module_id = "webhooks";         // X-Mode-ModuleID
    std::chrono::milliseconds timeout{5'000};   // per attempt: connect, send and the whole answer
    std::chrono::milliseconds retry_min{1'000}; // the first backoff; doubled for each further retry ...
    std::chrono::milliseconds retry_max{30'000}; // ... up to this
    std::chrono::milliseconds give_up{600'000}; // no retry starts later than this after the first attempt
    std::size_t max_records = 1'000;            // GET /_sim/webhooks keeps the last ones
};

enum class delivery_state { pending, delivered, failed };

std::string_view to_string(delivery_state s);

/** One event's delivery, as GET /_sim/webhooks shows it. */
struct webhook_delivery
{
    std::uint64_t id = 0;
    std::string event_type;
    object_id home_id = 0;
    std::string url;
    std::optional<unsigned> status;        // the last HTTP status received, if any
    unsigned attempts = 0;                 // attempts started, the one in flight included
    delivery_state state = delivery_state::pending;
    std::optional<std::string> last_error; // the most recent failed attempt (kept after a later success)
    std::string body;                      // the exact bytes POSTed
};

boost::json::object to_json(const webhook_delivery& d);

/** How many recorded deliveries are in each state (for /_sim/stats). */
struct webhook_counts
{
    std::size_t pending = 0;
    std::size_t delivered = 0;
    std::size_t failed = 0;
};

/** What one answer means: 2xx delivered; 4xx other than 408 and 429 final ("never again"); anything else
    (5xx, 408, 429, 1xx, 3xx) is retried. */
enum class attempt_verdict { delivered, retry, final_failure };
attempt_verdict judge_status(unsigned status);

/** The wait before retry `n` (n = 1 after the first attempt): retry_min · 2^(n-1), capped at retry_max. */
std::chrono::milliseconds backoff_delay(const webhook_options& o, unsigned n);

/** The POST of one event body: Content-Type application/json, X-Mode-Signature (lowercase hex
    HMAC-SHA256 keyed with `o.key` over `o.url` immediately followed by `body`), X-Mode-ModuleID,
    X-Mode-ProjectID, the per-attempt timeout. */
common::client::request webhook_request(const webhook_options& o, std::string body);

/**
 * The module: `deliver` records an event's delivery and starts it as a coroutine on a strand of its own
 * (so deliveries of different events proceed concurrently and one event's retries never hold up another's),
 * sending through one shared http_client (a keep-alive pool). Each attempt is bounded by `timeout`; a failed
 * one is retried after `backoff_delay` until `give_up` has passed since the first; a final 4xx ends it.
 * `shutdown` abandons the retries still waiting (logged) and refuses later events. Disabled (no calls, an
 * empty record) when constructed without options.
 *
 * Executors: deliveries run on strands of the executor given; a backoff wait is a timer, never a thread.
 * Thread-safety: every member function may be called from any thread (one mutex guards the record).
 * Lifetime: running deliveries share the module's state, so the module may be destroyed before they end;
 * the execution context must outlive them (destroying it destroys them).
 */
class webhook_module
{
public:
    webhook_module(net::any_io_executor ex, std::optional<webhook_options> opts);
    ~webhook_module();
    webhook_module(const webhook_module&) = delete;
    webhook_module& operator=(const webhook_module&) = delete;

    bool enabled() const noexcept { return shared_ != nullptr; }

    /** Starts delivering the event ("event as delivered", compact JSON); nothing for an event without a
        home, when disabled, or after shutdown. Never blocks on the network. */
    void deliver(const event_record& e);

    /** The deliveries recorded, oldest first (the last `max_records`). */
    std::vector<webhook_delivery> deliveries() const;
    webhook_counts counts() const;
    /** Forgets the record; deliveries still running go on, unrecorded. */
    void clear();

    /** Abandons every delivery waiting for a retry (an attempt in flight ends within its timeout, then
        stops); later events are not delivered. Idempotent. */
    void shutdown();

    struct shared; // the state deliveries share (webhook_module.cpp)

private:
    std::shared_ptr<shared> shared_;
};

} // namespace modesim
