#include "common/mail/message.hpp"

#include "common/util/strings.hpp"
#include "encoding.hpp"
#include "syntax.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <random>
#include <stdexcept>

namespace common::mail {

using namespace detail;

namespace {

[[noreturn]] void fail(std::string_view field, std::string_view why)
{
    throw std::invalid_argument("mail " + std::string(field) + ": " + std::string(why));
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
