// mail::message rendering: the MIME structure of the parts, their transfer encoding, and line ends.

#include "support/mail_message_harness.hpp"

using namespace mail_message_harness;

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

BOOST_AUTO_TEST_SUITE_END()
