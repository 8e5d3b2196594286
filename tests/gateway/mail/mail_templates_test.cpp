#include "mail/mail_templates.hpp"

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(mail_templates)

BOOST_AUTO_TEST_CASE(links_carry_the_token_as_a_query_parameter)
{
    BOOST_TEST(gateway::token_link("https://app.example.com", "/verify-email", "abc_DEF-123") ==
               "https://app.example.com/verify-email?token=abc_DEF-123");
}

BOOST_AUTO_TEST_CASE(names_cannot_inject_html)
{
    auto m = gateway::verification_mail("<script>alert(1)</script> & \"friends\"", "https://x/verify-email?token=t",
                                        std::chrono::hours(24));
    BOOST_TEST(m.html.find("<script>") == std::string::npos);
    BOOST_TEST(m.html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot;") != std::string::npos);
    // The plain-text part shows the name as given.
    BOOST_TEST(m.text.find("<script>alert(1)</script>") != std::string::npos);
    BOOST_TEST(m.text.find("https://x/verify-email?token=t") != std::string::npos);
    BOOST_TEST(m.text.find("24 hours") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(each_mail_says_what_it_is_and_how_long_the_link_lasts)
{
    auto reset = gateway::password_reset_mail("Ann", "https://x/reset-password?token=t", std::chrono::hours(1));
    BOOST_TEST(reset.subject == "Reset your password");
    BOOST_TEST(reset.text.find("1 hour") != std::string::npos);
    auto invite = gateway::invitation_mail("Bob", "Beach house", "https://x/accept-invite?token=t", std::chrono::hours(24 * 7));
    BOOST_TEST(invite.subject == "Bob invited you to Beach house");
    BOOST_TEST(invite.text.find("7 days") != std::string::npos);
    BOOST_TEST(invite.html.find("https://x/accept-invite?token=t") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(link_tokens_are_redacted_for_logs)
{
    auto link = gateway::token_link("https://app.example.com", "/verify-email", "abc_DEF-123");
    auto text = "Open this link:\n\n" + link + "\n\nor " + link + ".";
    BOOST_TEST(gateway::without_link_tokens(text) ==
               "Open this link:\n\nhttps://app.example.com/verify-email?token=REDACTED\n\n"
               "or https://app.example.com/verify-email?token=REDACTED.");
    BOOST_TEST(gateway::without_link_tokens("no link here") == "no link here");
    BOOST_TEST(gateway::without_link_tokens("?token=") == "?token=REDACTED");
}

BOOST_AUTO_TEST_SUITE_END()
