#include "common/mail/message.hpp"

#include "common/util/strings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <random>
#include <stdexcept>

namespace common::mail {

namespace {

using namespace std::string_view_literals;

// RFC 2045 (quoted-printable) and RFC 2047 (encoded-words) both cap lines at 76 octets, well
// under RFC 5322's hard 998; keeping every line this short also survives picky relays.
constexpr std::size_t max_line = 76;
constexpr std::string_view hex_digits = "0123456789ABCDEF";

[[noreturn]] void fail(std::string_view field, std::string_view why)
{
    throw std::invalid_argument("mail " + std::string(field) + ": " + std::string(why));
}

/** "=XX" for one octet (quoted-printable and Q encoding). */
std::string escape_octet(char c)
{
    auto u = static_cast<std::size_t>(static_cast<unsigned char>(c));
    return std::string{'=', hex_digits[u >> 4U], hex_digits[u & 0x0FU]};
}

bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_atext(char c)
{
    return is_alnum(c) || "!#$%&'*+-/=?^_`{|}~"sv.find(c) != std::string_view::npos;
}

bool is_printable_ascii(char c)
{
    return c >= ' ' && c <= '~';
}

/** Length of the UTF-8 sequence starting at s[i], or 0 when it is malformed (RFC 3629). */
std::size_t utf8_length(std::string_view s, std::size_t i)
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

void check_utf8(std::string_view field, std::string_view s)
{
    for (std::size_t i = 0; i < s.size();) {
        auto n = utf8_length(s, i);
        if (n == 0)
            fail(field, "not valid UTF-8");
        i += n;
    }
}

void check_header_value(std::string_view field, std::string_view s)
{
    if (s.find_first_of("\r\n\0"sv) != std::string_view::npos)
        fail(field, "contains a line break or NUL");
    check_utf8(field, s);
}

/** A dot-atom of `allowed` characters: no empty label, no leading/trailing/double dot. */
template <class Allowed>
bool dot_atom(std::string_view s, Allowed allowed)
{
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos)
        return false;
    for (char c : s)
        if (c != '.' && !allowed(c))
            return false;
    return true;
}

bool valid_host(std::string_view s)
{
    return s.size() <= 253 && dot_atom(s, [](char c) { return is_alnum(c) || c == '-'; });
}

void check_address(std::string_view field, std::string_view addr)
{
    auto at = addr.find('@');
    if (addr.size() > 254 || at == std::string_view::npos || at > 64 ||
        !dot_atom(addr.substr(0, at), is_atext) || !valid_host(addr.substr(at + 1)))
        fail(field, "not a valid address (local@domain, ASCII)");
}

struct mailbox
{
    std::string name; // display name, unquoted; may be empty
    std::string address;
};

mailbox parse_mailbox(std::string_view field, std::string_view in)
{
    check_header_value(field, in);
    auto s = trim(in);
    mailbox out;
    if (!s.empty() && s.back() == '>') {
        auto open = s.rfind('<');
        if (open == std::string_view::npos)
            fail(field, "unbalanced angle brackets");
        out.address = std::string(trim(s.substr(open + 1, s.size() - open - 2)));
        auto name = trim(s.substr(0, open));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
            // A quoted-string: drop the quotes and undo backslash escapes.
            for (std::size_t i = 1; i + 1 < name.size(); ++i) {
                if (name[i] == '\\' && i + 2 < name.size())
                    ++i;
                out.name += name[i];
            }
        } else {
            out.name = std::string(name);
        }
    } else {
        out.address = std::string(s);
    }
    check_address(field, out.address);
    return out;
}

/** Appends one header, folding between tokens so that lines stay within max_line. */
class header_writer
{
public:
    header_writer(std::string& out, std::string_view name)
        : out_(out)
        , line_(name.size() + 1)
    {
        out_ += name;
        out_ += ':';
    }

    /** Room for a token on the current line (after its separating space). */
    std::size_t room() const { return line_ + 1 < max_line ? max_line - line_ - 1 : 0; }

    void token(std::string_view t)
    {
        // Folding puts the line break before the separating space, which unfolding keeps.
        if (line_ + 1 + t.size() > max_line && !first_) {
            out_ += "\r\n";
            line_ = 0;
        }
        out_ += ' ';
        out_ += t;
        line_ += 1 + t.size();
        first_ = false;
    }

    void finish() { out_ += "\r\n"; }

private:
    std::string& out_;
    std::size_t line_;
    bool first_ = true;
};

/**
 * RFC 2047 Q encoded-words for `text` (valid UTF-8), split only between characters so each word
 * decodes on its own, each word at most 75 octets and fitting its line. Only the characters
 * allowed in both a Subject and a display-name phrase stay literal.
 */
void encoded_words(header_writer& h, std::string_view text)
{
    constexpr std::string_view prefix = "=?utf-8?Q?";
    constexpr std::size_t overhead = prefix.size() + 2; // and "?="
    std::string payload;
    auto flush = [&] {
        h.token(std::string(prefix) + payload + "?=");
        payload.clear();
    };
    // The first word shares its line with the header name; later words start a folded line.
    auto budget = h.room() > overhead + 12 ? h.room() - overhead : max_line - 1 - overhead;
    for (std::size_t i = 0; i < text.size();) {
        auto n = utf8_length(text, i);
        std::string encoded;
        for (std::size_t k = i; k < i + n; ++k) {
            char c = text[k];
            if (is_alnum(c) || "!*+-/"sv.find(c) != std::string_view::npos) {
                encoded += c;
            } else if (c == ' ') {
                encoded += '_';
            } else {
                encoded += escape_octet(c);
            }
        }
        if (payload.size() + encoded.size() > budget) {
            flush();
            budget = max_line - 1 - overhead;
        }
        payload += encoded;
        i += n;
    }
    if (!payload.empty())
        flush();
}

/** Plain ASCII words are readable as is; anything else, or words too long to fold, are encoded. */
bool needs_encoding(std::string_view text)
{
    if (text.find("=?") != std::string_view::npos || trim(text).size() != text.size())
        return true;
    std::size_t word = 0;
    for (char c : text) {
        if (!is_printable_ascii(c))
            return true;
        word = c == ' ' ? 0 : word + 1;
        if (word > 60)
            return true;
    }
    return false;
}

void text_header(std::string& out, std::string_view name, std::string_view text)
{
    header_writer h(out, name);
    if (needs_encoding(text)) {
        encoded_words(h, text);
    } else {
        // Folding is allowed at any space; an empty token keeps a double space.
        for (std::size_t pos = 0; pos <= text.size() && !text.empty();) {
            auto space = text.find(' ', pos);
            if (space == std::string_view::npos)
                space = text.size();
            h.token(text.substr(pos, space - pos));
            pos = space + 1;
        }
    }
    h.finish();
}

void mailbox_header(std::string& out, std::string_view name, const mailbox& mb)
{
    header_writer h(out, name);
    auto display = trim(mb.name);
    if (display.empty()) {
        h.token(mb.address);
        h.finish();
        return;
    }
    // Short ASCII names stay readable (as atoms, or as a quoted-string when they hold specials
    // such as ',' or '.'); anything longer is encoded, because only encoded-words can be folded.
    bool ascii = display.size() <= 60 && !needs_encoding(display);
    bool atoms = true;
    for (char c : display)
        atoms = atoms && (is_atext(c) || c == ' ');
    if (ascii && atoms) {
        h.token(display);
    } else if (ascii) {
        std::string quoted = "\"";
        for (char c : display) {
            if (c == '"' || c == '\\')
                quoted += '\\';
            quoted += c;
        }
        h.token(quoted + '"');
    } else {
        encoded_words(h, display);
    }
    h.token("<" + mb.address + ">");
    h.finish();
}

/**
 * Quoted-printable (RFC 2045 6.7) of UTF-8 text: line breaks (\n, \r\n, \r) become CRLF, lines
 * are soft-broken at 76 octets, trailing blanks, '=' and non-ASCII are escaped. A '.' or "From "
 * at the start of a line is escaped too, so no relay dot-stuffs or mbox-mangles the text.
 * `soft_end`: end with a soft line break when the text does not end with a line break, so a
 * body at the end of a message still ends with CRLF and decodes to exactly `text`.
 */
std::string quoted_printable(std::string_view text, bool soft_end)
{
    std::string out;
    std::size_t line = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
                ++i;
            out += "\r\n";
            line = 0;
            continue;
        }
        bool last = i + 1 == text.size() || text[i + 1] == '\r' || text[i + 1] == '\n';
        bool literal = (c > ' ' && c <= '~' && c != '=') || ((c == ' ' || c == '\t') && !last);
        if (line == 0 && (c == '.' || text.substr(i, 5) == "From "))
            literal = false;
        auto encoded = literal ? std::string(1, c) : escape_octet(c);
        // Leave room for the '=' of a soft break unless this ends a hard line.
        auto limit = last && !(soft_end && i + 1 == text.size()) ? max_line : max_line - 1;
        if (line + encoded.size() > limit) {
            out += "=\r\n";
            line = 0;
            if (c == '.' || text.substr(i, 5) == "From ")
                encoded = escape_octet(c);
        }
        out += encoded;
        line += encoded.size();
    }
    if (soft_end && line > 0)
        out += "=\r\n";
    return out;
}

std::string random_hex(std::size_t bytes)
{
    std::random_device rd;
    std::string out;
    while (out.size() < bytes * 2) {
        auto v = rd();
        for (int k = 0; k < 8 && out.size() < bytes * 2; ++k, v >>= 4)
            out += "0123456789abcdef"[v & 0x0FU];
    }
    return out;
}

std::string rfc5322_date(std::chrono::system_clock::time_point date)
{
    auto t = std::chrono::system_clock::to_time_t(date);
    std::tm tm{};
    gmtime_r(&t, &tm);
    static constexpr std::array<const char*, 7> days{
        "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months{
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::array<char, 64> buf{};
    auto n = std::snprintf(
        buf.data(),
        buf.size(),
        "%s, %02d %s %04d %02d:%02d:%02d +0000",
        days.at(static_cast<std::size_t>(tm.tm_wday)),
        tm.tm_mday,
        months.at(static_cast<std::size_t>(tm.tm_mon)),
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    );
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

void text_part_headers(std::string& out, std::string_view subtype)
{
    out += "Content-Type: text/";
    out += subtype;
    out += "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";
}

} // namespace

std::string address_of(std::string_view mailbox)
{
    return parse_mailbox("address", mailbox).address;
}

std::string render(
    const message& m, std::string_view message_id_domain, std::chrono::system_clock::time_point date,
    std::string_view message_id
)
{
    auto from = parse_mailbox("from", m.from);
    auto to = parse_mailbox("to", m.to);
    check_header_value("subject", m.subject);
    check_utf8("text", m.text);
    check_utf8("html", m.html);
    if (!valid_host(message_id_domain))
        fail("message_id_domain", "not a host name");
    if (message_id.size() > 64 ||
        std::any_of(message_id.begin(), message_id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) == 0; }))
        fail("message_id", "must be 1 to 64 letters and digits");

    std::string out;
    out += "Date: " + rfc5322_date(date) + "\r\n";
    mailbox_header(out, "From", from);
    mailbox_header(out, "To", to);
    text_header(out, "Subject", m.subject);
    out += "Message-ID: <" + (message_id.empty() ? random_hex(16) : std::string(message_id)) + "@" +
           std::string(message_id_domain) + ">\r\n";
    out += "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n";

    if (m.html.empty()) {
        text_part_headers(out, "plain");
        out += "\r\n";
        out += quoted_printable(m.text, true);
        return out;
    }

    auto text = quoted_printable(m.text, false);
    auto html = quoted_printable(m.html, false);
    // "=_" never occurs in quoted-printable output ('=' is followed by hex or CRLF), so the
    // boundary cannot collide; the check keeps that true whatever the encoder becomes.
    std::string boundary;
    do {
        boundary = "=_mb_" + random_hex(16);
    } while (text.find(boundary) != std::string::npos || html.find(boundary) != std::string::npos);

    out += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n\r\n";
    out += "--" + boundary + "\r\n";
    text_part_headers(out, "plain");
    out += "\r\n" + text + "\r\n--" + boundary + "\r\n";
    text_part_headers(out, "html");
    out += "\r\n" + html + "\r\n--" + boundary + "--\r\n";
    return out;
}

std::string render(const message& m, std::string_view message_id)
{
    auto from = address_of(m.from);
    return render(m, from.substr(from.find('@') + 1), std::chrono::system_clock::now(), message_id);
}

} // namespace common::mail
