#pragma once

// What the mail_message test files share: a strict reader of what render() writes, and a sample message.

#include "common/mail/message.hpp"
#include "support/stack.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mail = common::mail;
using namespace std::string_literals;

namespace mail_message_harness {

// A strict reader of what render() writes, independent of it: it accepts CRLF only, exact
// quoted-printable and Q encoded-words, and fails the test on anything else.

struct entity
{
    std::vector<std::pair<std::string, std::string>> headers; // name, unfolded value
    std::string body;
};

inline entity parse_entity(std::string_view s)
{
    entity e;
    auto end = s.find("\r\n\r\n");
    BOOST_REQUIRE_MESSAGE(end != std::string_view::npos, "no empty line after the headers");
    auto head = s.substr(0, end + 2);
    e.body = std::string(s.substr(end + 4));
    for (std::size_t pos = 0; pos < head.size();) {
        auto eol = head.find("\r\n", pos);
        auto line = head.substr(pos, eol - pos);
        pos = eol + 2;
        if (line.front() == ' ' || line.front() == '\t') {
            BOOST_REQUIRE_MESSAGE(!e.headers.empty(), "continuation line before any header");
            e.headers.back().second += line; // unfolding removes only the CRLF
            continue;
        }
        auto colon = line.find(':');
        BOOST_REQUIRE_MESSAGE(
            colon != std::string_view::npos, "header line without colon: " << line
        );
        e.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
    for (auto& [name, value] : e.headers) {
        BOOST_TEST_CONTEXT(name)
        {
            BOOST_TEST((value.empty() || value.front() == ' '));
        }
        if (!value.empty())
            value.erase(0, 1);
    }
    return e;
}

/** The value of the one header `name` (exactly one must exist). */
inline std::string header(const entity& e, std::string_view name)
{
    std::vector<std::string> found;
    for (const auto& [n, v] : e.headers)
        if (n == name)
            found.push_back(v);
    BOOST_TEST_REQUIRE(
        found.size() == 1U, "header " << name << " occurs " << found.size() << " times"
    );
    return found.front();
}

/** Per-octet checks: one assertion counted per failure, not one per octet. */
inline void require(bool ok, const std::string& what)
{
    if (!ok)
        BOOST_FAIL(what);
}

inline int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/** Strict quoted-printable: "=XX" (upper-case hex) or a soft break "=\r\n", lines ≤ 76. */
inline std::string decode_qp(std::string_view in)
{
    std::string out;
    std::size_t line = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '\r') {
            require(in.substr(i, 2) == "\r\n", "bare CR in quoted-printable");
            require(
                i == 0 || (in[i - 1] != ' ' && in[i - 1] != '\t'), "trailing blank before CRLF"
            );
            out += "\r\n";
            ++i;
            line = 0;
            continue;
        }
        require(++line <= 76U, "quoted-printable line longer than 76");
        if (c != '=') {
            require((c >= ' ' && c <= '~') || c == '\t', "raw octet " + std::to_string(int(c)));
            out += c;
        } else if (in.substr(i + 1, 2) == "\r\n") {
            i += 2; // soft line break
            line = 0;
        } else {
            require(i + 2 < in.size(), "escape cut short");
            int hi = hex(in[i + 1]);
            int lo = hex(in[i + 2]);
            require(hi >= 0 && lo >= 0, "bad escape in quoted-printable");
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
            line += 2;
        }
    }
    return out;
}

/** An unstructured header: plain text as is, or only =?utf-8?Q?...?= words (each ≤ 75). */
inline std::string decode_text(std::string_view value)
{
    if (value.substr(0, 2) != "=?")
        return std::string(value);
    std::string out;
    std::size_t pos = 0;
    while (pos < value.size()) {
        auto end = value.find(' ', pos);
        if (end == std::string_view::npos)
            end = value.size();
        auto word = value.substr(pos, end - pos);
        pos = end + 1;
        BOOST_TEST_CONTEXT(word)
        {
            BOOST_TEST_REQUIRE(word.size() <= 75U);
            BOOST_TEST_REQUIRE(word.substr(0, 10) == "=?utf-8?Q?");
            BOOST_TEST_REQUIRE(word.substr(word.size() - 2) == "?=");
        }
        auto payload = word.substr(10, word.size() - 12);
        std::string decoded;
        for (std::size_t i = 0; i < payload.size(); ++i) {
            if (payload[i] == '_') {
                decoded += ' ';
            } else if (payload[i] == '=') {
                require(i + 2 < payload.size(), "escape cut short");
                decoded += static_cast<char>(hex(payload[i + 1]) * 16 + hex(payload[i + 2]));
                i += 2;
            } else {
                require(payload[i] != '?', "'?' inside an encoded-word");
                decoded += payload[i];
            }
        }
        // Every word must hold whole characters: it must not end inside a UTF-8 sequence.
        std::size_t tail = 0;
        while (tail < decoded.size() &&
               (static_cast<unsigned char>(decoded[decoded.size() - 1 - tail]) & 0xC0U) == 0x80U)
            ++tail;
        if (tail < decoded.size()) {
            auto lead = static_cast<unsigned char>(decoded[decoded.size() - 1 - tail]);
            std::size_t need = lead < 0x80 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
            BOOST_TEST(tail == need, "encoded-word splits a UTF-8 character");
        }
        out += decoded;
    }
    return out;
}

/** Every line ends in CRLF (no bare CR/LF), is ≤ 76 octets of printable ASCII (or tab). */
inline void check_lines(const std::string& raw)
{
    BOOST_TEST_REQUIRE(raw.size() >= 2U);
    BOOST_TEST(raw.substr(raw.size() - 2) == "\r\n");
    std::size_t line = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        auto c = static_cast<unsigned char>(raw[i]);
        auto at = " at " + std::to_string(i);
        require(
            (c >= 0x20 && c < 0x7F) || c == '\t' || c == '\r' || c == '\n',
            "octet " + std::to_string(int(c)) + at
        );
        if (c == '\r') {
            require(i + 1 < raw.size() && raw[i + 1] == '\n', "bare CR" + at);
        } else if (c == '\n') {
            require(i > 0 && raw[i - 1] == '\r', "bare LF" + at);
            line = 0;
            continue;
        }
        if (c != '\r')
            require(++line <= 76U, "line longer than 76 octets" + at);
    }
}

inline std::string crlf(std::string_view text)
{
    std::string out;
    for (char c : text) {
        if (c == '\n')
            out += '\r';
        out += c;
    }
    return out;
}

inline std::string param(const std::string& value, const std::string& name)
{
    std::smatch m;
    std::regex re(";\\s*" + name + "=\"([^\"]*)\"");
    BOOST_TEST_REQUIRE(std::regex_search(value, m, re), value << " has no " << name);
    return m[1];
}

/** The body parts of a multipart entity with this boundary, headers and body each. */
inline std::vector<entity> split_parts(const std::string& body, const std::string& boundary)
{
    auto delimiter = "--" + boundary + "\r\n";
    auto close = "\r\n--" + boundary + "--\r\n";
    BOOST_TEST_REQUIRE(body.substr(0, delimiter.size()) == delimiter);
    BOOST_TEST_REQUIRE(body.size() > close.size());
    BOOST_TEST_REQUIRE(body.substr(body.size() - close.size()) == close);
    auto inner = body.substr(delimiter.size(), body.size() - delimiter.size() - close.size());
    std::vector<entity> parts;
    auto separator = "\r\n" + delimiter;
    for (std::size_t pos = 0;;) {
        auto next = inner.find(separator, pos);
        parts.push_back(parse_entity(inner.substr(pos, next - pos)));
        if (next == std::string::npos)
            break;
        pos = next + separator.size();
    }
    return parts;
}

const auto fixed_date = std::chrono::system_clock::time_point(std::chrono::seconds(1741503903)) +
                        std::chrono::milliseconds(987); // 2025-03-09T07:05:03.987Z, a Sunday

inline mail::message sample()
{
    mail::message m;
    m.from = "modebridge <no-reply@modebridge.example>";
    m.to = "anna.schmidt+test@example.com";
    m.subject = "Willkommen bei modebridge, Zoë 🎉 – bitte bestätige deine Adresse";
    // Long lines (plain, and of escaped multi-octet characters) exercise soft breaks; the last
    // lines test leading dots, "From ", trailing blanks and a tab.
    m.text = "Hallo Zoë,\n\nbitte bestätige deine Adresse:\n"
             "https://app.modebridge.example/verify?token=abc=def&x=1\n" +
             std::string(300, 'x') + "\n";
    for (int i = 0; i < 60; ++i)
        m.text += "ü€";
    m.text += "\n.\n.leading dot\nFrom here on\ntrailing blanks  \n\ttab\n\nGruß 🎉\n";
    m.html = "<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n<p>Hallo Zoë,</p>\n"
             "<p><a href=\"https://app.modebridge.example/verify?token=abc=def&amp;x=1\">"
             "Adresse bestätigen</a></p>\n<p>" +
             std::string(500, 'y') + "</p>\n</body></html>\n";
    return m;
}

} // namespace mail_message_harness
