// mail::message identity: Message-IDs, boundaries, dates, the sender domain, and envelope addresses.

#include "support/mail_message_harness.hpp"

using namespace mail_message_harness;

BOOST_AUTO_TEST_SUITE(mail_message)

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
