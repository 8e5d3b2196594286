#pragma once

// The header and body encoders render() uses (private to common_mail): RFC 2047 encoded-words in
// headers, RFC 2045 quoted-printable bodies. Pure functions: safe on any thread.

#include "syntax.hpp"

#include <string>
#include <string_view>

namespace common::mail::detail {

/** Appends `name: text` to `out`, as RFC 2047 encoded-words when it is not plain ASCII text. */
void text_header(std::string& out, std::string_view name, std::string_view text);

/** Appends `name: display-name <address>` to `out`, the name as atoms, a quoted-string or encoded-words. */
void mailbox_header(std::string& out, std::string_view name, const mailbox& mb);

/**
 * Quoted-printable (RFC 2045 6.7) of UTF-8 text: line breaks (\n, \r\n, \r) become CRLF, lines
 * are soft-broken at 76 octets, trailing blanks, '=' and non-ASCII are escaped. A '.' or "From "
 * at the start of a line is escaped too, so no relay dot-stuffs or mbox-mangles the text.
 * `soft_end`: end with a soft line break when the text does not end with a line break, so a
 * body at the end of a message still ends with CRLF and decodes to exactly `text`.
 */
std::string quoted_printable(std::string_view text, bool soft_end);

} // namespace common::mail::detail
