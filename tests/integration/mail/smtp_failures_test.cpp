// The SMTP client against a scripted server: transient and permanent failures, the envelope, TLS and credentials.
#include "integration/mail/smtp_harness.hpp"

BOOST_AUTO_TEST_SUITE(smtp)

BOOST_AUTO_TEST_CASE(server_not_listening_is_transient)
{
    // A bound but not listening socket holds the port, so nothing else answers on it.
    net::io_context ioc;
    tcp::socket holder(ioc);
    holder.open(tcp::v4());
    holder.bind(tcp::endpoint(net::ip::address_v4::loopback(), 0));
    auto port = holder.local_endpoint().port();

    mail::smtp_options o;
    o.url = "smtp://mailer:" + secret + "@127.0.0.1:" + std::to_string(port);
    o.connect_timeout = 2s;
    o.timeout = 5s;
    mail::smtp_sender sender(o);
    auto e = send_failure(sender, test_message(unique_rcpt("refused")));
    BOOST_TEST(!e.permanent(), e.what());
    BOOST_TEST(
        std::string(e.what()).find("127.0.0.1:" + std::to_string(port)) != std::string::npos
    );
    check_no_secrets(e);
}

BOOST_AUTO_TEST_CASE(server_that_never_speaks_times_out_as_transient)
{
    // The kernel completes the handshake for the listen backlog; nobody ever accepts or writes.
    net::io_context ioc;
    tcp::acceptor silent(ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    auto port = silent.local_endpoint().port();

    mail::smtp_options o;
    o.url = "smtp://mailer:" + secret + "@127.0.0.1:" + std::to_string(port);
    o.connect_timeout = 1s;
    o.timeout = 700ms;
    mail::smtp_sender sender(o);
    auto e = send_failure(sender, test_message(unique_rcpt("silent")));
    BOOST_TEST(!e.permanent(), e.what());
    BOOST_TEST(std::string(e.what()).find("imeout") != std::string::npos, e.what());
    check_no_secrets(e);
}

BOOST_AUTO_TEST_CASE(replies_decide_permanent_or_transient)
{
    struct row
    {
        std::string name;
        script s;
        bool permanent;
        std::string reply; // expected in what()
    };
    std::vector<row> rows;
    auto add = [&](std::string name, auto change, bool permanent, std::string reply) {
        script s;
        change(s);
        rows.push_back({std::move(name), s, permanent, std::move(reply)});
    };
    add(
        "RCPT 550",
        [](script& s) { s.rcpt_to = "550 5.1.1 no such user"; },
        true,
        "RCPT TO refused: 550 5.1.1"
    );
    add(
        "MAIL 553", [](script& s) { s.mail_from = "553 5.7.1 sender rejected"; }, true, "553"
    );
    add(
        "DATA 554", [](script& s) { s.data = "554 5.3.4 no"; }, true, "DATA refused: 554"
    );
    add(
        "end of data 552",
        [](script& s) { s.end_of_data = "552 5.3.4 too big"; },
        true,
        "end of data refused: 552"
    );
    add(
        "RCPT 450", [](script& s) { s.rcpt_to = "450 4.2.1 try later"; }, false, "450"
    );
    add(
        "MAIL 421", [](script& s) { s.mail_from = "421 4.3.2 shutting down"; }, false, "421"
    );
    add(
        "end of data 451", [](script& s) { s.end_of_data = "451 4.3.0 local error"; }, false, "451"
    );
    add(
        "greeting 554", [](script& s) { s.greeting = "554 5.7.1 go away"; }, false, "554"
    );
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name)
        {
            fake_smtp_server server(r.s);
            mail::smtp_options o;
            o.url = server.url();
            o.timeout = 5s;
            mail::smtp_sender sender(o);
            auto e = send_failure(sender, test_message(unique_rcpt("script")));
            BOOST_TEST(e.permanent() == r.permanent, e.what());
            BOOST_TEST(std::string(e.what()).find(r.reply) != std::string::npos, e.what());
            check_no_secrets(e);
        }
    }
}

BOOST_AUTO_TEST_CASE(envelope_and_data_reach_the_server)
{
    fake_smtp_server server(script{});
    mail::smtp_options o;
    o.url = server.url();
    o.helo_domain = "worker.modebridge.test";
    mail::smtp_sender sender(o);
    BOOST_TEST(sender.server() == "smtp://127.0.0.1:" + std::to_string(server.port()));
    mail::message m{
        "\"modebridge, Inc.\" <no-reply@modebridge.test>",
        "Zoë <zoe@example.test>",
        "Hi",
        "x\n",
        ""};
    auto rendered = mail::render(m);
    sender.send(m, rendered);

    auto commands = server.commands();
    BOOST_TEST(contains(commands, "EHLO worker.modebridge.test"));
    BOOST_TEST(contains(commands, "MAIL FROM:<no-reply@modebridge.test>"));
    BOOST_TEST(contains(commands, "RCPT TO:<zoe@example.test>"));
    BOOST_TEST(server.body() == rendered);
}

BOOST_AUTO_TEST_CASE(credentials_are_never_sent_without_tls)
{
    script s;
    s.ehlo = "250-fake\r\n250 AUTH PLAIN LOGIN"; // offers AUTH, but not STARTTLS
    fake_smtp_server server(s);
    mail::smtp_options o;
    o.url = server.url("mailer:p%40ss-" + secret + "@");
    o.timeout = 5s;
    mail::smtp_sender sender(o);
    auto e = send_failure(sender, test_message(unique_rcpt("cleartext")));
    BOOST_TEST(!e.permanent(), e.what());
    check_no_secrets(e);
    auto commands = server.commands();
    BOOST_TEST(!contains(commands, "AUTH"));
    BOOST_TEST(!contains(commands, "MAIL"));
}

BOOST_AUTO_TEST_CASE(tls_failure_is_transient)
{
    // smtps:// to a plain-text server: the TLS handshake fails.
    fake_smtp_server server(script{});
    mail::smtp_options o;
    o.url = "smtps://127.0.0.1:" + std::to_string(server.port());
    o.timeout = 5s;
    mail::smtp_sender sender(o);
    auto e = send_failure(sender, test_message(unique_rcpt("tls")));
    BOOST_TEST(!e.permanent(), e.what());
    check_no_secrets(e);
}

BOOST_AUTO_TEST_CASE(bad_options_are_rejected_without_echoing_the_url)
{
    std::vector<std::string> urls{
        "http://user:" + secret + "@host:25",
        "smtp://user:" + secret + "@",
        "not a url " + secret,
        "",
        // A requirement that cannot be honoured as written is refused, never dropped.
        "smtp://user:" + secret + "@host:25?startls=required",
        "smtp://user:" + secret + "@host:25?starttls=yes",
    };
    for (const auto& url : urls) {
        BOOST_TEST_CONTEXT(url)
        {
            mail::smtp_options o;
            o.url = url;
            try {
                mail::smtp_sender sender(o);
                BOOST_ERROR("accepted");
            } catch (const std::invalid_argument& e) {
                BOOST_TEST(std::string(e.what()).find(secret) == std::string::npos);
            }
        }
    }
    mail::smtp_options o;
    o.url = "smtp://127.0.0.1:25";
    o.timeout = 0ms;
    BOOST_CHECK_THROW(mail::smtp_sender{o}, std::invalid_argument);
    o.timeout = 1s;
    o.helo_domain = "bad\r\nMAIL FROM:<x@y>";
    BOOST_CHECK_THROW(mail::smtp_sender{o}, std::invalid_argument);
    o.helo_domain = "ok.example";
    mail::smtp_sender sender(o);
    BOOST_TEST(sender.server() == "smtp://127.0.0.1:25");
    o.url = "SMTPS://user:" + secret + "@Mail.Example.COM";
    BOOST_TEST(mail::smtp_sender(o).server() == "smtps://mail.example.com:465");
    o.url = "smtp://mail.example.com:587?starttls=required";
    BOOST_TEST(mail::smtp_sender(o).server() == "smtp://mail.example.com:587");
    o.url = "smtp://mail.example.com:587?starttls=opportunistic";
    BOOST_TEST(mail::smtp_sender(o).server() == "smtp://mail.example.com:587");
}

BOOST_AUTO_TEST_SUITE_END()
