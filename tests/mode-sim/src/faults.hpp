#pragma once

// Fault injection for the /_sim/faults control route: make the next matching MODE requests fail with a
// status, or wait first. Pure matching and counting here; the app applies the delay (asynchronously, on a
// timer) and renders the failure.

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modesim {

/** One injected fault, as POSTed to /_sim/faults. */
struct fault
{
    std::string path;             // "" matches every path; "/x/*" every path starting "/x/"; else exact
    std::string method;           // "" matches every method; else upper-case, e.g. "POST"
    std::optional<unsigned> status; // fail with this status (after the delay)
    std::string reason;           // the failure's reason; "" = SIMULATED_FAULT
    std::chrono::milliseconds delay{0};
    std::optional<std::uint64_t> count; // how many requests it still applies to; nullopt = every one
};

/** What to do to one request. */
struct fault_action
{
    std::chrono::milliseconds delay{0};
    std::optional<unsigned> status;
    std::string reason;
};

bool fault_matches(const fault& f, std::string_view method, std::string_view path);

/** Paths faults never touch: the control surface and the health and metrics routes. */
bool is_control_path(std::string_view path);

/** The fault for a /_sim/faults body; 403 INVALID_INPUT for bad fields or a fault with neither
    `status` nor `delayMs`. */
fault parse_fault(const boost::json::object& body);
boost::json::object to_json(const fault& f);

/**
 * The active faults, in the order they were added; the first that matches a request applies to it and
 * uses up one of its `count` (a fault whose count reaches zero is removed).
 *
 * Thread-safety: every member function may be called from any thread (one mutex).
 */
class fault_table
{
public:
    void add(fault f);
    void clear();
    std::optional<fault_action> take(std::string_view method, std::string_view path);
    std::vector<fault> list() const;

private:
    mutable std::mutex mutex_;
    std::vector<fault> faults_;
};

} // namespace modesim
