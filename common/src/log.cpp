#include "common/log.hpp"

#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <stdexcept>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace common::log {
namespace {

std::string& service_name()
{
    static std::string name = "modebridge";
    return name;
}

std::atomic<int> min_level{static_cast<int>(level::info)};

std::string_view level_name(level l)
{
    switch (l) {
    case level::debug:
        return "debug";
    case level::info:
        return "info";
    case level::warn:
        return "warn";
    case level::error:
        return "error";
    }
    return "info";
}

std::string timestamp()
{
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", tm, static_cast<int>(ms.count()));
}

} // namespace

void init(std::string service, level l)
{
    service_name() = std::move(service);
    min_level.store(static_cast<int>(l), std::memory_order_relaxed);
}

bool enabled(level l) noexcept
{
    return static_cast<int>(l) >= min_level.load(std::memory_order_relaxed);
}

level parse_level(std::string_view name)
{
    if (name == "debug")
        return level::debug;
    if (name == "info")
        return level::info;
    if (name == "warn" || name == "warning")
        return level::warn;
    if (name == "error")
        return level::error;
    throw std::invalid_argument("expected one of debug, info, warn, error");
}

void write(level l, std::string_view what, fields f)
{
    boost::json::object line;
    line.reserve(4 + f.size());
    line["ts"] = timestamp();
    line["level"] = level_name(l);
    line["service"] = service_name();
    line["what"] = what;
    for (const auto& kv : f)
        line[kv.key] = kv.value;
    std::string out = boost::json::serialize(line);
    out.push_back('\n');
    // One write per line keeps lines whole when several threads log at once.
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0)
            return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

} // namespace common::log
