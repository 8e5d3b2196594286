#pragma once

// Outgoing mail as RFC 5322 / MIME text: what the gateway sends for verification, password reset,
// invitation and member-added mails. Pure functions, no I/O; smtp_sender delivers the result.

#include <chrono>
#include <string>
#include <string_view>

namespace common::mail {

/**
 * One outgoing mail, as the caller composes it. Plain data: no invariants are checked until
 * render() (or address_of()) sees it.
 *
 * - `from`: "Name <addr@domain>", "\"Quoted, Name\" <addr@domain>" or a bare "addr@domain". The
 *   name may be any UTF-8 text; it is re-encoded as needed (RFC 2047).
 * - `to`: one recipient, same forms as `from` (usually a bare address).
 * - `subject`: UTF-8 text, typically containing user-provided names.
 * - `text`: the text/plain body (UTF-8; line ends \n, \r\n or \r, sent as CRLF).
 * - `html`: the text/html alternative; empty means a text-only mail.
 *
 * Thread-safety: a plain struct; distinct objects are independent, shared objects are safe to read.
 */
struct message
{
    std::string from;
    std::string to;
    std::string subject;
    std::string text;
    std::string html;
};

/**
 * The whole message ready for SMTP DATA: headers Date (RFC 5322, UTC, from `date`), From, To,
 * Subject (encoded-words when not plain ASCII), Message-ID (`<32 random hex@message_id_domain>`),
 * MIME-Version, Auto-Submitted: auto-generated (RFC 3834: no auto-replies to it), then either
 * one text/plain part or multipart/alternative (text/plain, then text/html) with a random
 * boundary. Bodies are UTF-8 in quoted-printable, so the result is 7-bit ASCII with CRLF line
 * ends only, no line over 76 octets and ends with CRLF; decoding a part gives back its text with
 * CRLF line ends, exactly (a text-only body without a final line break ends in a QP soft break).
 *
 * Throws std::invalid_argument (naming the field, never echoing the body) when from/to/subject
 * hold CR, LF or NUL (header injection), when from/to have no valid ASCII address (local@domain),
 * when any field is not valid UTF-8, or when message_id_domain is not a host name.
 * Thread-safe (reads only its arguments; randomness from std::random_device).
 */
std::string render(
    const message& m, std::string_view message_id_domain, std::chrono::system_clock::time_point date,
    std::string_view message_id = {}
);

/**
 * render() with the Message-ID domain taken from the From address and the current time.
 * `message_id`, when given, is the left part of the Message-ID instead of random hex: 1 to 64
 * letters and digits, the same for every attempt to send one mail, so that a mail sent twice (the
 * server took it, but its answer was lost) is recognisably one mail. std::invalid_argument otherwise.
 */
std::string render(const message& m, std::string_view message_id = {});

/**
 * The bare address of a mailbox: "Name <a@b>" → "a@b", " a@b " → "a@b" (for the SMTP envelope).
 * Throws std::invalid_argument when there is no single valid ASCII address (dot-atom local part
 * of at most 64 octets, host-name domain, at most 254 octets in all) or when it holds CR/LF.
 */
std::string address_of(std::string_view mailbox);

} // namespace common::mail
