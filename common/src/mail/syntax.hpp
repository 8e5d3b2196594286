#pragma once

// What the mail sources share (private to common_mail): line length, RFC 5322 character classes, UTF-8
// sequence lengths, and a parsed mailbox. Pure functions and plain data: safe on any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace common::mail::detail {

using namespace std::string_view_literals;

// RFC 2045 (quoted-printable) and RFC 2047 (encoded-words) both cap lines at 76 octets, well
// under RFC 5322's hard 998; keeping every line this short also survives picky relays.
constexpr std::size_t max_line = 76;

inline bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

inline bool is_atext(char c)
{
    return is_alnum(c) || "!#$%&'*+-/=?^_`{|}~"sv.find(c) != std::string_view::npos;
}

/** Length of the UTF-8 sequence starting at s[i], or 0 when it is malformed (RFC 3629). */
inline std::size_t utf8_length(std::string_view s, std::size_t i)
{
    auto byte = [&](std::size_t k) {
        return static_cast<unsigned char>(s[k]);
    };
    unsigned char b0 = byte(i);
    if (b0 < 0x80)
        return 1;
    std::size_t n = b0 >= 0xC2 && b0 <= 0xDF   ? 2
                    : b0 >= 0xE0 && b0 <= 0xEF ? 3
                    : b0 >= 0xF0 && b0 <= 0xF4 ? 4
                                               : 0;
    if (n == 0 || i + n > s.size())
        return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((byte(i + k) & 0xC0U) != 0x80U)
            return 0;
    unsigned char b1 = byte(i + 1);
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF.
    if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F) || (b0 == 0xF0 && b1 < 0x90) ||
        (b0 == 0xF4 && b1 > 0x8F))
        return 0;
    return n;
}

/** A parsed mailbox; plain data, owned by the render call that parsed it. */
struct mailbox
{
    std::string name; // display name, unquoted; may be empty
    std::string address;
};

} // namespace common::mail::detail
