#include "faults.hpp"

#include "body.hpp"
#include "errors.hpp"

#include <algorithm>

namespace modesim {

namespace {

constexpr std::int64_t max_delay_ms = 10 * 60 * 1000;

std::string upper(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
    return s;
}

} // namespace

bool fault_matches(const fault& f, std::string_view method, std::string_view path)
{
    if (!f.method.empty() && f.method != method)
        return false;
    if (f.path.empty())
        return true;
    if (f.path.back() == '*')
        return path.starts_with(std::string_view(f.path).substr(0, f.path.size() - 1));
    return path == f.path;
}

bool is_control_path(std::string_view path)
{
    return path == "/_sim" || path.starts_with("/_sim/") || path == "/healthz" || path == "/readyz" ||
           path == "/metrics";
}

fault parse_fault(const boost::json::object& body)
{
    fault f;
    if (auto path = opt_string(body, "path")) {
        if (path->empty() || path->front() != '/')
            throw invalid_input("path", "INVALID");
        f.path = std::move(*path);
    }
    if (auto method = opt_string(body, "method"))
        f.method = upper(std::move(*method));
    if (auto status = opt_int(body, "status")) {
        if (*status < 400 || *status > 599)
            throw invalid_input("status", "INVALID");
        f.status = static_cast<unsigned>(*status);
    }
    if (auto reason = opt_string(body, "reason"))
        f.reason = std::move(*reason);
    if (auto delay = opt_int(body, "delayMs")) {
        if (*delay < 0 || *delay > max_delay_ms)
            throw invalid_input("delayMs", "INVALID");
        f.delay = std::chrono::milliseconds(*delay);
    }
    if (auto count = opt_int(body, "count")) {
        if (*count < 1)
            throw invalid_input("count", "INVALID");
        f.count = static_cast<std::uint64_t>(*count);
    }
    if (!f.status && f.delay.count() == 0)
        throw invalid_input("status", "REQUIRED");
    return f;
}

boost::json::object to_json(const fault& f)
{
    boost::json::object o;
    if (!f.path.empty())
        o["path"] = f.path;
    if (!f.method.empty())
        o["method"] = f.method;
    if (f.status)
        o["status"] = *f.status;
    if (!f.reason.empty())
        o["reason"] = f.reason;
    o["delayMs"] = f.delay.count();
    if (f.count)
        o["count"] = *f.count;
    return o;
}

void fault_table::add(fault f)
{
    std::lock_guard lock(mutex_);
    faults_.push_back(std::move(f));
}

void fault_table::clear()
{
    std::lock_guard lock(mutex_);
    faults_.clear();
}

std::optional<fault_action> fault_table::take(std::string_view method, std::string_view path)
{
    std::lock_guard lock(mutex_);
    auto it = std::find_if(faults_.begin(), faults_.end(), [&](const fault& f) { return fault_matches(f, method, path); });
    if (it == faults_.end())
        return std::nullopt;
    fault_action a{it->delay, it->status, it->reason.empty() ? std::string(reason::simulated_fault) : it->reason};
    if (it->count && --*it->count == 0)
        faults_.erase(it);
    return a;
}

std::vector<fault> fault_table::list() const
{
    std::lock_guard lock(mutex_);
    return faults_;
}

} // namespace modesim
