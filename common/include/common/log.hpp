#pragma once

#include <boost/json/value.hpp>

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace common::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

/** One key/value of a log line. Values are JSON, so numbers stay numbers. */
struct field
{
    std::string_view key;
    boost::json::value value;

    field(std::string_view k, boost::json::value v)
        : key(k)
        , value(std::move(v))
    {
    }
    template <class T>
        requires std::is_arithmetic_v<T>
    field(std::string_view k, T v)
        : key(k)
        , value(v)
    {
    }
    field(std::string_view k, std::string_view v)
        : key(k)
        , value(boost::json::string_view(v.data(), v.size()))
    {
    }
    field(std::string_view k, const std::string& v)
        : field(k, std::string_view(v))
    {
    }
    field(std::string_view k, const char* v)
        : field(k, std::string_view(v))
    {
    }
};

using fields = std::initializer_list<field>;

/**
 * Structured logging: one JSON object per line on stderr, with `ts`, `level`, `service`, `what`
 * and the given fields (`request_id` among them where there is a request).
 *
 * Thread-safety: every function may be called from any thread; a line is written with a single
 * write(2), so lines from different threads never interleave. Never pass a secret as a field.
 */
void init(std::string service, level min_level);
bool enabled(level l) noexcept;
level parse_level(std::string_view name); // throws std::invalid_argument
void write(level l, std::string_view what, fields f);

inline void debug(std::string_view what, fields f = {})
{
    if (enabled(level::debug))
        write(level::debug, what, f);
}
inline void info(std::string_view what, fields f = {})
{
    if (enabled(level::info))
        write(level::info, what, f);
}
inline void warn(std::string_view what, fields f = {})
{
    write(level::warn, what, f);
}
inline void error(std::string_view what, fields f = {})
{
    write(level::error, what, f);
}

} // namespace common::log
