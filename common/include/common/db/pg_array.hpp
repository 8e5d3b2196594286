#pragma once

// PostgreSQL array literals for passing lists as one statement parameter (`= ANY($1::bigint[])`,
// `unnest($1::text[])`). Pure functions, callable from any thread.

#include <functional>
#include <ranges>
#include <string>
#include <string_view>

namespace common::db {

/** `"{1,2,3}"`: the integers `proj(x)` of `r`, as a PostgreSQL array literal. */
template <std::ranges::input_range R, class Proj = std::identity>
std::string int_array(const R& r, Proj proj = {})
{
    std::string out = "{";
    for (const auto& x : r) {
        if (out.size() > 1)
            out += ',';
        out += std::to_string(std::invoke(proj, x));
    }
    return out + "}";
}

/** Appends `s` double-quoted, with `"` and `\` escaped: one element of a text array literal. */
inline void append_quoted(std::string& out, std::string_view s)
{
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '"';
}

/** `{"a","b"}`: the strings `proj(x)` of `r`, quoted and escaped, as a PostgreSQL text array literal. */
template <std::ranges::forward_range R, class Proj = std::identity>
std::string text_array(const R& r, Proj proj = {})
{
    std::size_t size = 2;
    for (const auto& x : r)
        size += std::string_view(std::invoke(proj, x)).size() + 3;
    std::string out;
    out.reserve(size);
    out += '{';
    bool first = true;
    for (const auto& x : r) {
        if (!first)
            out += ',';
        first = false;
        append_quoted(out, std::string_view(std::invoke(proj, x)));
    }
    return out + "}";
}

} // namespace common::db
