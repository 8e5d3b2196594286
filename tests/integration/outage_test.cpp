// Dependencies that go away and come back. These stop parts of the shared test stack, so ctest runs
// this suite alone.
#include "support/account_flow.hpp"
#include "support/stack.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace common::aliases;

BOOST_AUTO_TEST_SUITE(outages)

namespace {

// Brings a stopped part back even when the test fails half-way.
struct restart_guard
{
    std::string part;
    ~restart_guard()
    {
        try {
            test::stack_ctl("start-" + part);
        } catch (const std::exception&) {
        }
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(mail_survives_an_smtp_outage)
{
    test::scratch_database db;
    auto sim = test::start_mode_sim();
    auto gw = test::start_gateway(db.url(), sim.base_url(), {{"MB_MAIL_RETRY_MIN", "500ms"}, {"MB_MAIL_RETRY_MAX", "2s"}});
    auto email = test::unique_email("outage");
    {
        restart_guard guard{"smtp"};
        test::stack_ctl("stop-smtp");
        // Registration neither fails nor waits for the mail server.
        test::register_account(gw, email);
        BOOST_TEST(gw.proc->wait_for_output("\"mail.retry\"", std::chrono::seconds(10)));
        BOOST_TEST(test::mails_to(email).empty());
        test::stack_ctl("start-smtp");
    }
    // Delivered once the sink is back, exactly once.
    BOOST_TEST_REQUIRE(test::wait_for_mail(email, "Confirm", std::chrono::seconds(20)).has_value());
    std::this_thread::sleep_for(std::chrono::seconds(3));
    BOOST_TEST(test::mails_to(email).size() == 1U);
    // And the link in it works.
    auto token = test::token_from_mail(email, "Confirm");
    BOOST_TEST(test::post_json(gw, "/v1/auth/verify-email", {{"token", token}}).status == 200U);
}

BOOST_AUTO_TEST_SUITE_END()
