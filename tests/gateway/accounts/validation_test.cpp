#include "accounts/validation.hpp"

#include "common/web/problem.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

BOOST_AUTO_TEST_SUITE(validation)

namespace {

std::string code_of(const std::function<void()>& f)
{
    try {
        f();
    } catch (const common::web::problem& p) {
        BOOST_TEST(static_cast<unsigned>(p.status()) == 400U);
        return p.code();
    }
    return "accepted";
}

} // namespace

BOOST_AUTO_TEST_CASE(ascii_addresses_are_accepted_trimmed_and_malformed_or_internationalised_ones_refused)
{
    for (std::string ok : std::vector<std::string>{"a@example.com", "first.last+tag@sub.example.co.uk", "x_y-z@ex-ample.org",
                           "  padded@example.com  ", "xn--bcher-kva@xn--bcher-kva.example"}) {
        BOOST_TEST_CONTEXT(ok)
        {
            BOOST_TEST(code_of([&] { (void)gateway::validate_email(ok); }) == "accepted");
        }
    }
    BOOST_TEST(gateway::validate_email("  padded@example.com ") == "padded@example.com");
    // Internationalised addresses are refused: their mail could not be sent (no SMTPUTF8).
    for (std::string bad : std::vector<std::string>{"ünïcode@example.de", "user@exämple.de", "", "plain", "@example.com", "a@", "a@localhost", "a@@example.com", "a b@example.com",
                            "a@exa mple.com", "a@-example.com", "a@example-.com", "a@example..com", ".a@example.com",
                            "a.@example.com", "a..b@example.com", "a@example.com.", "<a>@example.com",
                            std::string(65, 'l') + "@example.com", "a@" + std::string(250, 'd') + ".com"}) {
        BOOST_TEST_CONTEXT(bad)
        {
            BOOST_TEST(code_of([&] { (void)gateway::validate_email(bad); }) == "INVALID_EMAIL");
        }
    }
}

BOOST_AUTO_TEST_CASE(emails_compare_case_insensitively)
{
    BOOST_TEST(gateway::normalize_email("Ann.Example@EXAMPLE.com") == "ann.example@example.com");
    BOOST_TEST(gateway::normalize_email("ann@example.com") == gateway::normalize_email("ANN@Example.COM"));
}

BOOST_AUTO_TEST_CASE(passwords_count_characters_not_bytes)
{
    BOOST_TEST(code_of([] { gateway::validate_password("elevenchars"); }) == "WEAK_PASSWORD");
    BOOST_TEST(code_of([] { gateway::validate_password("twelve chars"); }) == "accepted");
    BOOST_TEST(code_of([] { gateway::validate_password(std::string(128, 'x')); }) == "accepted");
    BOOST_TEST(code_of([] { gateway::validate_password(std::string(129, 'x')); }) == "WEAK_PASSWORD");
    // Twelve two-byte characters: 24 bytes, 12 characters.
    std::string accents;
    for (int i = 0; i < 12; ++i)
        accents += "é";
    BOOST_TEST(code_of([&] { gateway::validate_password(accents); }) == "accepted");
    // 128 four-byte characters are allowed; 129 are not, although both are far over 128 bytes.
    std::string emoji128, emoji129;
    for (int i = 0; i < 128; ++i)
        emoji128 += "\xF0\x9F\x94\x91";
    emoji129 = emoji128 + "\xF0\x9F\x94\x91";
    BOOST_TEST(code_of([&] { gateway::validate_password(emoji128); }) == "accepted");
    BOOST_TEST(code_of([&] { gateway::validate_password(emoji129); }) == "WEAK_PASSWORD");
    // No composition rules: all one letter is fine when long enough.
    BOOST_TEST(code_of([] { gateway::validate_password("aaaaaaaaaaaa"); }) == "accepted");
}

BOOST_AUTO_TEST_CASE(names_are_trimmed_and_must_be_one_line_of_1_to_100_characters)
{
    BOOST_TEST(gateway::validate_name("  Ann Example ") == "Ann Example");
    BOOST_TEST(code_of([] { (void)gateway::validate_name(""); }) == "INVALID_REQUEST");
    BOOST_TEST(code_of([] { (void)gateway::validate_name("   "); }) == "INVALID_REQUEST");
    BOOST_TEST(code_of([] { (void)gateway::validate_name(std::string(101, 'n')); }) == "INVALID_REQUEST");
    BOOST_TEST(code_of([] { (void)gateway::validate_name(std::string(100, 'n')); }) == "accepted");
    BOOST_TEST(code_of([] { (void)gateway::validate_name("line\nbreak"); }) == "INVALID_REQUEST");
    BOOST_TEST(code_of([] { (void)gateway::validate_name("Zoë 李"); }) == "accepted");
}

BOOST_AUTO_TEST_SUITE_END()
