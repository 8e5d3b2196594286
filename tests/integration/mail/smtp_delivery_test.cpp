// The SMTP client delivering through the real SMTP sink.
#include "integration/mail/smtp_harness.hpp"

BOOST_AUTO_TEST_SUITE(smtp)

BOOST_AUTO_TEST_CASE(message_arrives_intact)
{
    auto rcpt = unique_rcpt("intact");
    mail::message m{
        "modebridge <no-reply@modebridge.test>",
        rcpt,
        "Bitte bestätige deine Adresse, Zoë 🎉 " + random_tag(),
        "Hallo Zoë,\n\n.a line with a leading dot\n.\nhttps://app.modebridge.test/verify?token=" +
            std::string(120, 'T') + "\nGruß\n",
        "<p>Hallo Zoë</p>\n",
    };
    auto rendered = mail::render(m, "modebridge.test", std::chrono::system_clock::now());
    mail::smtp_sender sender(sink_options());
    sender.send(m, rendered);

    auto got = test::wait_for_mail(rcpt, m.subject);
    BOOST_TEST_REQUIRE(got.has_value(), "no mail to " << rcpt << " in " << test::mail_dir());
    BOOST_TEST(got->from == "no-reply@modebridge.test");
    BOOST_TEST(got->to == std::vector<std::string>{rcpt});
    BOOST_TEST(got->subject() == m.subject);
    BOOST_TEST(got->header("From") == "modebridge <no-reply@modebridge.test>");
    BOOST_TEST(got->header("To") == rcpt);
    BOOST_TEST(got->text_body() == m.text);
    // Byte for byte what we rendered (the sink drops only the SMTP terminator).
    BOOST_TEST(got->raw == rendered);
}

BOOST_AUTO_TEST_CASE(parallel_sends_from_four_threads_all_arrive)
{
    constexpr int threads = 4;
    constexpr int per_thread = 6;
    mail::smtp_sender sender(sink_options()); // one sender shared by every thread
    std::vector<std::string> rcpts;
    for (int t = 0; t < threads; ++t)
        rcpts.push_back(unique_rcpt("parallel" + std::to_string(t)));

    std::mutex mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                try {
                    mail::message m{
                        "no-reply@modebridge.test",
                        rcpts[static_cast<std::size_t>(t)],
                        "parallel " + std::to_string(t) + "/" + std::to_string(i),
                        "message " + std::to_string(i) + "\n",
                        "<p>message " + std::to_string(i) + "</p>",
                    };
                    sender.send(m, mail::render(m));
                } catch (const std::exception& e) {
                    std::lock_guard lock(mutex);
                    failures.emplace_back(e.what());
                }
            }
        });
    }
    for (auto& w : workers)
        w.join();
    BOOST_TEST(failures.empty(), (failures.empty() ? "" : failures.front()));

    for (int t = 0; t < threads; ++t) {
        BOOST_TEST_CONTEXT("thread " << t)
        {
            auto mails = wait_for_count(rcpts[static_cast<std::size_t>(t)], per_thread);
            BOOST_TEST(mails.size() == static_cast<std::size_t>(per_thread));
            std::set<std::string> subjects;
            for (const auto& m : mails)
                subjects.insert(m.subject());
            std::set<std::string> expected;
            for (int i = 0; i < per_thread; ++i)
                expected.insert("parallel " + std::to_string(t) + "/" + std::to_string(i));
            BOOST_TEST(subjects == expected);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
