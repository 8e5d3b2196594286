#pragma once

#include <string_view>

namespace common {

/**
 * `s` without leading and trailing spaces and horizontal tabs (the optional white space of HTTP and
 * mail headers); other white space, such as CR and LF, is kept. A view into `s`: no copy.
 */
inline std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace common
