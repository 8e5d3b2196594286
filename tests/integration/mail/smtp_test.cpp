#include "common/mail/smtp_sender.hpp"
#include "support/http_call.hpp"
#include "support/process.hpp"
#include "support/services.hpp"
#include "support/stack.hpp"
#include "support/tls_cert.hpp"
#include "support/wait.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mail = common::mail;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

std::string random_tag()
{
    std::random_device rd;
    std::string s;
    for (int i = 0; i < 12; ++i)
        s += "0123456789abcdef"[rd() % 16];
    return s;
}

/** A recipient no other test (or earlier run) uses: the sink's mail dir is shared. */
std::string unique_rcpt(const std::string& what)
{
    return "smtp-" + what + "-" + random_tag() + "@example.test";
}

mail::smtp_options sink_options()
{
    mail::smtp_options o;
    o.url = test::smtp_url();
    o.helo_domain = "mail-test.modebridge.test";
    return o;
}

/** What a fake server replies at each step (without the CRLF; multi-line replies embed CRLFs). */
struct script
{
    std::string greeting = "220 fake ESMTP";
    std::string ehlo = "250 fake";
    std::string mail_from = "250 2.1.0 OK";
    std::string rcpt_to = "250 2.1.5 OK";
    std::string data = "354 go ahead";
    std::string end_of_data = "250 2.0.0 queued";
};

/**
 * A one-connection SMTP server on 127.0.0.1 following `script`, on its own thread with blocking
 * I/O; it records the command lines and the message it received. The destructor unblocks a
 * pending accept by connecting to it, then joins.
 */
class fake_smtp_server
{
public:
    explicit fake_smtp_server(script s)
        : acceptor_(ioc_, tcp::endpoint(net::ip::address_v4::loopback(), 0))
        , port_(acceptor_.local_endpoint().port())
        , thread_([this, s = std::move(s)] { run(s); })
    {}
    ~fake_smtp_server()
    {
        net::io_context ioc;
        tcp::socket poke(ioc);
        boost::system::error_code ec;
        poke.connect(tcp::endpoint(net::ip::address_v4::loopback(), port_), ec);
        poke.close(ec);
        thread_.join();
    }
    fake_smtp_server(const fake_smtp_server&) = delete;
    fake_smtp_server& operator=(const fake_smtp_server&) = delete;

    unsigned short port() const { return port_; }
    std::string url(const std::string& userinfo = "") const
    {
        return "smtp://" + userinfo + "127.0.0.1:" + std::to_string(port_);
    }
    std::vector<std::string> commands() const
    {
        std::lock_guard lock(mutex_);
        return commands_;
    }
    std::string body() const
    {
        std::lock_guard lock(mutex_);
        return body_;
    }

private:
    void run(const script& s)
    {
        boost::system::error_code ec;
        tcp::socket sock(ioc_);
        acceptor_.accept(sock, ec);
        if (ec)
            return;
        auto reply = [&](const std::string& r) {
            net::write(sock, net::buffer(r + "\r\n"), ec);
        };
        reply(s.greeting);
        std::string buffer;
        while (!ec) {
            auto n = net::read_until(sock, net::dynamic_buffer(buffer), "\r\n", ec);
            if (ec)
                break;
            auto line = buffer.substr(0, n - 2);
            buffer.erase(0, n);
            {
                std::lock_guard lock(mutex_);
                commands_.push_back(line);
            }
            auto verb = line.substr(0, 4);
            if (verb == "EHLO") {
                reply(s.ehlo);
            } else if (verb == "HELO" || verb == "RSET" || verb == "NOOP") {
                reply("250 OK");
            } else if (verb == "MAIL") {
                reply(s.mail_from);
            } else if (verb == "RCPT") {
                reply(s.rcpt_to);
            } else if (verb == "DATA") {
                reply(s.data);
                if (s.data.rfind("354", 0) != 0)
                    continue;
                n = net::read_until(sock, net::dynamic_buffer(buffer), "\r\n.\r\n", ec);
                if (ec)
                    break;
                {
                    std::lock_guard lock(mutex_);
                    body_ = buffer.substr(0, n - 3); // keep the CRLF that ends the last line
                }
                buffer.erase(0, n);
                reply(s.end_of_data);
            } else if (verb == "QUIT") {
                reply("221 bye");
                break;
            } else {
                reply("502 5.5.1 not implemented");
            }
        }
    }

    net::io_context ioc_;
    tcp::acceptor acceptor_;
    unsigned short port_;
    mutable std::mutex mutex_;
    std::vector<std::string> commands_;
    std::string body_;
    std::thread thread_; // last: starts once everything it uses exists
};

bool contains(const std::vector<std::string>& lines, const std::string& prefix)
{
    for (const auto& l : lines)
        if (l.rfind(prefix, 0) == 0)
            return true;
    return false;
}

/** Waits until `count` messages to `rcpt` arrived; returns them (fewer after the timeout). */
std::vector<test::mail> wait_for_count(const std::string& rcpt, std::size_t count)
{
    auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
        auto mails = test::mails_to(rcpt);
        if (mails.size() >= count || std::chrono::steady_clock::now() >= deadline)
            return mails;
        std::this_thread::sleep_for(50ms);
    }
}

const std::string body_marker = "BODY-MARKER-do-not-echo";
const std::string secret = "w0rd-secret";

mail::message test_message(const std::string& to)
{
    return {
        "modebridge <no-reply@modebridge.test>",
        to,
        "Test " + random_tag(),
        "Hello,\n" + body_marker + "\n",
        "",
    };
}

/** Runs send() expecting an smtp_error; returns it for inspection. */
mail::smtp_error send_failure(const mail::smtp_sender& sender, const mail::message& m)
{
    try {
        sender.send(m, mail::render(m));
    } catch (const mail::smtp_error& e) {
        BOOST_TEST_MESSAGE(
            "smtp_error (" << (e.permanent() ? "permanent" : "transient") << "): " << e.what()
        );
        return e;
    }
    BOOST_FAIL("send() succeeded where it should have failed");
    throw std::logic_error("unreachable");
}

void check_no_secrets(const mail::smtp_error& e)
{
    std::string what = e.what();
    BOOST_TEST(what.find(body_marker) == std::string::npos, what);
    BOOST_TEST(what.find(secret) == std::string::npos, what);
    BOOST_TEST(what.find("Hello,") == std::string::npos, what);
}

} // namespace

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

