// mail::message headers: encoded subjects and display names, and header injection refused.

#include "support/mail_message_harness.hpp"

using namespace mail_message_harness;

BOOST_AUTO_TEST_SUITE(mail_message)

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

BOOST_AUTO_TEST_SUITE_END()
