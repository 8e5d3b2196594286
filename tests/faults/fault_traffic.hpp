#pragma once

// The traffic of the fault suite, each kind on a thread of its own: events posted to webhook-ingest as MODE's
// Webhooks Smart Module posts them (an event that is not acknowledged is sent again until it is, the same
// body, as MODE retries), and requests sent to the gateways as apps send them. Every event and request is
// booked with the phase (fault) during which it was first sent, so the suite can count per fault.

#include "support/http_call.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace faults {

using clock = std::chrono::steady_clock;

/** Every event sent, by its number `n` (in eventData, and so in what the streams receive). */
struct event_entry
{
    std::int64_t home = 0;
    int phase = 0;
    int attempts = 0;
    bool acked = false;
};

/** How one request ended. */
enum class outcome
{
    answered,   // 2xx
    refused,    // 503 or 504
    down,       // connection refused or reset
    unanswered, // the client's timeout passed
    wrong,      // any other answer
};

/** How the requests sent during one phase ended. */
struct request_counts
{
    int answered = 0;   // 2xx
    int refused = 0;    // 503 or 504: a part the gateway needs is down, said in time
    int down = 0;       // the gateway itself was not there (connection refused or reset): it was killed
    int unanswered = 0; // no answer within the client's timeout: must stay 0
    int wrong = 0;      // any other answer (4xx, 500): must stay 0
    double slowest = 0; // seconds, of the answered and refused ones
    std::vector<std::string> wrong_answers; // the first few, for the failure message
};

/** Shared by the traffic threads and the suite; every member is thread-safe. */
class traffic_book
{
public:
    /** The phase new events and requests are booked under. */
    void set_phase(int phase) { phase_ = phase; }
    int phase() const { return phase_; }

    std::int64_t new_event(std::int64_t home);
    void attempted(std::int64_t n, bool acked);
    std::map<std::int64_t, event_entry> events() const;

    /** Books one request's outcome under the current phase, how long it took, and for `wrong`, what came
        back (`detail`). */
    void count_request(outcome o, double seconds, const std::string& detail = {});
    std::map<int, request_counts> requests() const;

private:
    std::atomic<int> phase_{0};
    mutable std::mutex mutex_;
    std::int64_t last_n_ = 0;
    std::map<std::int64_t, event_entry> events_;
    std::map<int, request_counts> requests_;
};

/** The body MODE would post for event `n` of `home`: unique per event, the same for each retry. */
std::string event_body(std::int64_t home, std::int64_t n);

/**
 * Posts new events round-robin over `homes` (about `per_second`), and re-posts the unacknowledged ones half
 * a second after each failed attempt, to the port `ingest_port` names at that moment (a restarted ingest
 * keeps its port). Stops sending new events on stop(); keeps retrying until drain() says all are acked.
 */
class event_sender
{
public:
    event_sender(traffic_book& book, const std::atomic<unsigned short>& ingest_port, std::vector<std::int64_t> homes,
                 int per_second);
    ~event_sender();
    /** No new events from now on; returns once every event booked is acknowledged, or false after `limit`. */
    bool drain(std::chrono::milliseconds limit);

private:
    void run();

    traffic_book& book_;
    const std::atomic<unsigned short>& port_;
    std::vector<std::int64_t> homes_;
    int per_second_;
    std::atomic<bool> new_events_{true};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/** Apps' requests: GET /v1/me, /v1/homes and /v1/me/sessions with their tokens, over both gateways in turn. */
class requester
{
public:
    requester(traffic_book& book, const std::atomic<unsigned short>* ports, std::vector<std::string> tokens,
              std::chrono::milliseconds timeout);
    ~requester();
    void stop();

private:
    void run();

    traffic_book& book_;
    const std::atomic<unsigned short>* ports_; // two
    std::vector<std::string> tokens_;
    std::chrono::milliseconds timeout_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/** Resident memory of a process, in KiB (VmRSS); 0 when it is gone. */
long rss_kib(int pid);

} // namespace faults
