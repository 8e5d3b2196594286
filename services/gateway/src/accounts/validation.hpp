#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gateway {

/**
 * Input rules for accounts, pure functions (unit-tested). Each returns the cleaned value or throws
 * `common::web::problem` 400 with the contract's code.
 */

/** Trims surrounding spaces and checks the address form; 400 INVALID_EMAIL. */
std::string validate_email(std::string_view raw);

/** The case-insensitive key of an address (ASCII lower-case). */
std::string normalize_email(std::string_view email);

/** 12 to 128 characters (Unicode code points), no composition rules; 400 WEAK_PASSWORD. */
void validate_password(std::string_view password);

/** U+0000–U+001F and U+007F: never in names, which reach mail headers and MODE. */
inline bool is_control_char(char ch)
{
    auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
}

/** 400 INVALID_REQUEST naming `field` when `value` holds a control character. */
void reject_control_chars(std::string_view value, std::string_view field);

/** Trimmed, 1 to 100 characters, no control characters; 400 INVALID_REQUEST naming `name`. */
std::string validate_name(std::string_view raw);

/** Number of Unicode code points in valid UTF-8. */
std::size_t utf8_length(std::string_view s);

} // namespace gateway
