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

/** Trimmed, 1 to 100 characters, no control characters; 400 INVALID_REQUEST naming `name`. */
std::string validate_name(std::string_view raw);

/** Number of Unicode code points in valid UTF-8. */
std::size_t utf8_length(std::string_view s);

} // namespace gateway
