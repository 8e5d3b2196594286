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

namespace {

// A strict reader of what render() writes, independent of it: it accepts CRLF only, exact
// quoted-printable and Q encoded-words, and fails the test on anything else.

struct entity
{
    std::vector<std::pair<std::string, std::string>> headers; // name, unfolded value
    std::string body;
};

entity parse_entity(std::string_view s)
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
std::string header(const entity& e, std::string_view name)
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
void require(bool ok, const std::string& what)
{
    if (!ok)
        BOOST_FAIL(what);
}

int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/** Strict quoted-printable: "=XX" (upper-case hex) or a soft break "=\r\n", lines ≤ 76. */
std::string decode_qp(std::string_view in)
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
std::string decode_text(std::string_view value)
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
void check_lines(const std::string& raw)
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

std::string crlf(std::string_view text)
{
    std::string out;
    for (char c : text) {
        if (c == '\n')
            out += '\r';
        out += c;
    }
    return out;
}

std::string param(const std::string& value, const std::string& name)
{
    std::smatch m;
    std::regex re(";\\s*" + name + "=\"([^\"]*)\"");
    BOOST_TEST_REQUIRE(std::regex_search(value, m, re), value << " has no " << name);
    return m[1];
}

/** The body parts of a multipart entity with this boundary, headers and body each. */
std::vector<entity> split_parts(const std::string& body, const std::string& boundary)
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

mail::message sample()
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

} // namespace

BOOST_AUTO_TEST_SUITE(mail_message)

BOOST_AUTO_TEST_CASE(multipart_message_round_trips)
{
    auto m = sample();
    auto raw = mail::render(m, "mail.modebridge.example", fixed_date);
    check_lines(raw);

    auto top = parse_entity(raw);
    BOOST_TEST(header(top, "Date") == "Sun, 09 Mar 2025 07:05:03 +0000");
    BOOST_TEST(header(top, "From") == "modebridge <no-reply@modebridge.example>");
    BOOST_TEST(header(top, "To") == "anna.schmidt+test@example.com");
    BOOST_TEST(decode_text(header(top, "Subject")) == m.subject);
    BOOST_TEST(header(top, "Subject").substr(0, 10) == "=?utf-8?Q?");
    BOOST_TEST(std::regex_match(
        header(top, "Message-ID"), std::regex("<[0-9a-f]{32}@mail\\.modebridge\\.example>")
    ));
    BOOST_TEST(header(top, "MIME-Version") == "1.0");
    BOOST_TEST(header(top, "Auto-Submitted") == "auto-generated");
    auto type = header(top, "Content-Type");
    BOOST_TEST(type.rfind("multipart/alternative;", 0) == 0U);
    auto boundary = param(type, "boundary");
    BOOST_TEST(boundary.size() >= 20U);

    auto parts = split_parts(top.body, boundary);
    BOOST_TEST_REQUIRE(parts.size() == 2U);
    BOOST_TEST(header(parts[0], "Content-Type") == "text/plain; charset=utf-8");
    BOOST_TEST(header(parts[0], "Content-Transfer-Encoding") == "quoted-printable");
    BOOST_TEST(header(parts[1], "Content-Type") == "text/html; charset=utf-8");
    BOOST_TEST(header(parts[1], "Content-Transfer-Encoding") == "quoted-printable");
    BOOST_TEST(decode_qp(parts[0].body) == crlf(m.text));
    BOOST_TEST(decode_qp(parts[1].body) == crlf(m.html));
    for (const auto& part : parts)
        BOOST_TEST(part.body.find("--" + boundary) == std::string::npos);

    // Relays must not see a line starting with '.' or "From " (dot-stuffing, mbox quoting).
    BOOST_TEST(raw.find("\r\n.") == std::string::npos);
    BOOST_TEST(raw.find("\r\nFrom ") == std::string::npos);

    // The test-support reader of the SMTP sink's files, an independent decoder, agrees.
    test::mail received;
    received.raw = raw;
    BOOST_TEST(received.subject() == m.subject);
    BOOST_TEST(received.text_body() == m.text);
}

BOOST_AUTO_TEST_CASE(text_only_message_is_a_single_part)
{
    for (std::string text :
         {"Hello Zoë\nline two"s, "ends with a break\n"s, ""s, std::string(200, '=')}) {
        BOOST_TEST_CONTEXT(text)
        {
            mail::message m{"a@example.com", "b@example.com", "Hi", text, ""};
            auto raw = mail::render(m, "example.com", fixed_date);
            check_lines(raw);
            auto top = parse_entity(raw);
            BOOST_TEST(header(top, "Content-Type") == "text/plain; charset=utf-8");
            BOOST_TEST(header(top, "Content-Transfer-Encoding") == "quoted-printable");
            BOOST_TEST(raw.find("boundary") == std::string::npos);
            BOOST_TEST(decode_qp(top.body) == crlf(text)); // exact: no line break added
            test::mail received;
            received.raw = raw;
            BOOST_TEST(received.text_body() == text);
        }
    }
}

BOOST_AUTO_TEST_CASE(line_ends_are_normalised_to_crlf)
{
    mail::message m{"a@example.com", "b@example.com", "Hi", "a\r\nb\rc\nd\n\ne", "<p>x</p>\r\n"};
    auto raw = mail::render(m, "example.com", fixed_date);
    check_lines(raw);
    auto top = parse_entity(raw);
    auto parts = split_parts(top.body, param(header(top, "Content-Type"), "boundary"));
    BOOST_TEST_REQUIRE(parts.size() == 2U);
    BOOST_TEST(decode_qp(parts[0].body) == "a\r\nb\r\nc\r\nd\r\n\r\ne");
    BOOST_TEST(decode_qp(parts[1].body) == "<p>x</p>\r\n");
}

BOOST_AUTO_TEST_CASE(subjects_round_trip)
{
    std::vector<std::string> subjects{
        "Verify your email address",
        "",
        "Looks =?utf-8?Q?encoded?= but is not",
        "  leading and trailing  ",
        "double  spaces and\ttab",
        "control \x01 character",
        "delete \x7F character",
        "under_score, question? equals= quote\" colon:",
        "Anna Schmidt added you to the home \"Ferienwohnung am See\" on modebridge, please accept "
        "the invitation within seven days",
        std::string(150, 'w'),
        "Zoë",
        "日本語の件名 with 🎉🎉🎉 and more text " + std::string(40, 'x') + " Ünïcödé ünïcödé ünïcödé",
    };
    for (int i = 0; i < 40; ++i)
        subjects.back() += "🎉é";
    for (const auto& s : subjects) {
        BOOST_TEST_CONTEXT(s)
        {
            mail::message m{"a@example.com", "b@example.com", s, "x", ""};
            auto raw = mail::render(m, "example.com", fixed_date);
            check_lines(raw);
            BOOST_TEST(decode_text(header(parse_entity(raw), "Subject")) == s);
            test::mail received;
            received.raw = raw;
            BOOST_TEST(received.subject() == s);
        }
    }
    // Plain ASCII stays readable.
    mail::message m{"a@example.com", "b@example.com", "Reset your password", "x", ""};
    auto raw = mail::render(m, "example.com", fixed_date);
    BOOST_TEST(raw.find("\r\nSubject: Reset your password\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(display_names_are_quoted_or_encoded)
{
    struct row
    {
        std::string in;
        std::string header;  // expected raw From value, when it is plain
        std::string decoded; // expected display name, when it is encoded
    };
    std::vector<row> rows{
        {"modebridge <no-reply@example.com>", "modebridge <no-reply@example.com>", ""},
        {"no-reply@example.com", "no-reply@example.com", ""},
        {"  <no-reply@example.com>  ", "no-reply@example.com", ""},
        {"\"Doe, John \\\"JD\\\"\" <john@example.com>",
         "\"Doe, John \\\"JD\\\"\" <john@example.com>",
         ""},
        {"modebridge Inc. <a@example.com>", "\"modebridge Inc.\" <a@example.com>", ""},
        {"Zoë Müller <zoe@example.com>", "", "Zoë Müller"},
        {"Evil <x@y> <a@example.com>", "\"Evil <x@y>\" <a@example.com>", ""},
        {std::string(100, 'n') + " <a@example.com>", "", std::string(100, 'n')},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.in)
        {
            mail::message m{r.in, r.in, "s", "x", ""};
            auto raw = mail::render(m, "example.com", fixed_date);
            check_lines(raw);
            auto top = parse_entity(raw);
            for (const char* name : {"From", "To"}) {
                auto value = header(top, name);
                if (!r.header.empty()) {
                    BOOST_TEST(value == r.header);
                } else {
                    auto open = value.rfind(" <");
                    BOOST_TEST_REQUIRE(open != std::string::npos);
                    BOOST_TEST(decode_text(value.substr(0, open)) == r.decoded);
                    BOOST_TEST(value.substr(open) == " <" + mail::address_of(r.in) + ">");
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(header_injection_is_rejected)
{
    auto base = mail::message{"a@example.com", "b@example.com", "Hello", "text", "<p>html</p>"};
    std::vector<std::string> bad{
        "\r\nBcc: victim@example.com", "\nBcc: v@example.com", "\r", "\0"s};
    for (const auto& inject : bad) {
        BOOST_TEST_CONTEXT(inject.size())
        {
            auto m = base;
            m.subject = "Hello" + inject;
            BOOST_CHECK_THROW(mail::render(m, "example.com", fixed_date), std::invalid_argument);
            m = base;
            m.from = "Evil" + inject + " <a@example.com>";
            BOOST_CHECK_THROW(mail::render(m, "example.com", fixed_date), std::invalid_argument);
            m = base;
            m.to = "b@example.com" + inject;
            BOOST_CHECK_THROW(mail::render(m, "example.com", fixed_date), std::invalid_argument);
            BOOST_CHECK_THROW(mail::address_of("b@example.com" + inject), std::invalid_argument);
            BOOST_CHECK_THROW(
                mail::render(base, "example.com" + inject, fixed_date), std::invalid_argument
            );
        }
    }
    auto m = base;
    m.to = "b@example.com, c@example.com";
    BOOST_CHECK_THROW(mail::render(m, "example.com", fixed_date), std::invalid_argument);
    m = base;
    m.subject = "broken \xC3 UTF-8";
    BOOST_CHECK_THROW(mail::render(m, "example.com", fixed_date), std::invalid_argument);
    m = base;
    m.text = "overlong \xC0\xAF";
    BOOST_CHECK_THROW(mail::render(m, "example.com", fixed_date), std::invalid_argument);
    // The base message itself renders: the throws above are about the injected parts.
    BOOST_CHECK_NO_THROW(mail::render(base, "example.com", fixed_date));
}

BOOST_AUTO_TEST_CASE(message_ids_and_boundaries_are_unique)
{
    auto m = sample();
    std::set<std::string> ids;
    std::set<std::string> boundaries;
    for (int i = 0; i < 200; ++i) {
        auto top = parse_entity(mail::render(m, "example.com", fixed_date));
        ids.insert(header(top, "Message-ID"));
        boundaries.insert(param(header(top, "Content-Type"), "boundary"));
    }
    BOOST_TEST(ids.size() == 200U);
    BOOST_TEST(boundaries.size() == 200U);
}

BOOST_AUTO_TEST_CASE(a_given_message_id_is_used_on_every_render)
{
    auto m = sample();
    auto first = parse_entity(mail::render(m, "example.com", fixed_date, "4f2a9c"));
    auto again = parse_entity(mail::render(m, "example.com", fixed_date, "4f2a9c"));
    BOOST_TEST(header(first, "Message-ID") == "<4f2a9c@example.com>");
    BOOST_TEST(header(again, "Message-ID") == "<4f2a9c@example.com>");
    // Only letters and digits: nothing that could end the header or the angle brackets.
    for (const std::string& bad :
         std::vector<std::string>{"a>b", "a\r\nBcc: x@y.z", "a@b", "a b", std::string(65, 'a')})
        BOOST_CHECK_THROW(mail::render(m, "example.com", fixed_date, bad), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(dates_are_rfc5322_utc)
{
    using std::chrono::seconds;
    using tp = std::chrono::system_clock::time_point;
    std::vector<std::pair<tp, std::string>> rows{
        {tp(seconds(0)), "Thu, 01 Jan 1970 00:00:00 +0000"},
        {tp(seconds(951782400)), "Tue, 29 Feb 2000 00:00:00 +0000"},
        {tp(seconds(1767225599)), "Wed, 31 Dec 2025 23:59:59 +0000"},
    };
    for (const auto& [when, expected] : rows) {
        BOOST_TEST_CONTEXT(expected)
        {
            mail::message m{"a@example.com", "b@example.com", "s", "x", ""};
            BOOST_TEST(
                header(parse_entity(mail::render(m, "example.com", when)), "Date") == expected
            );
        }
    }
}

BOOST_AUTO_TEST_CASE(default_render_uses_the_sender_domain)
{
    mail::message m{"modebridge <no-reply@mb.example.org>", "b@example.com", "s", "x", ""};
    auto top = parse_entity(mail::render(m));
    BOOST_TEST(
        std::regex_match(header(top, "Message-ID"), std::regex("<[0-9a-f]{32}@mb\\.example\\.org>"))
    );
    BOOST_TEST(!header(top, "Date").empty());
}

BOOST_AUTO_TEST_CASE(address_of_extracts_the_envelope_address)
{
    std::vector<std::pair<std::string, std::string>> good{
        {"a@b.example", "a@b.example"},
        {"  a@b.example\t", "a@b.example"},
        {"Name <a@b.example>", "a@b.example"},
        {"\"Doe, John\" <john.doe+tag@example.com>", "john.doe+tag@example.com"},
        {"Zoë <zoe@example.com>", "zoe@example.com"},
        {"<a@localhost>", "a@localhost"},
        {"Name < a@b.example >", "a@b.example"},
    };
    for (const auto& [in, out] : good) {
        BOOST_TEST_CONTEXT(in)
        {
            BOOST_TEST(mail::address_of(in) == out);
        }
    }
    std::vector<std::string> bad{
        "",
        "Name",
        "Name <>",
        "a@",
        "@b.example",
        "a@b@c.example",
        "a b@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a@example..com",
        "a@exa_mple.com",
        "Name <a@b.example",
        "Name a@b.example>",
        "zoë@example.com",
        "a@b.example, c@d.example",
        std::string(65, 'l') + "@example.com",
        "a@" + std::string(250, 'd') + ".com",
    };
    for (const auto& in : bad) {
        BOOST_TEST_CONTEXT(in)
        {
            BOOST_CHECK_THROW(mail::address_of(in), std::invalid_argument);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
