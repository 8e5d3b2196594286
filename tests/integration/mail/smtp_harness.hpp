#pragma once

// The SMTP client against the test stack's sink and against a scripted fake server: what the smtp_* test files share.
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

namespace smtp_harness {

inline std::string random_tag()
{
    std::random_device rd;
    std::string s;
    for (int i = 0; i < 12; ++i)
        s += "0123456789abcdef"[rd() % 16];
    return s;
}

/** A recipient no other test (or earlier run) uses: the sink's mail dir is shared. */
inline std::string unique_rcpt(const std::string& what)
{
    return "smtp-" + what + "-" + random_tag() + "@example.test";
}

inline mail::smtp_options sink_options()
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

inline bool contains(const std::vector<std::string>& lines, const std::string& prefix)
{
    for (const auto& l : lines)
        if (l.rfind(prefix, 0) == 0)
            return true;
    return false;
}

/** Waits until `count` messages to `rcpt` arrived; returns them (fewer after the timeout). */
inline std::vector<test::mail> wait_for_count(const std::string& rcpt, std::size_t count)
{
    auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
        auto mails = test::mails_to(rcpt);
        if (mails.size() >= count || std::chrono::steady_clock::now() >= deadline)
            return mails;
        std::this_thread::sleep_for(50ms);
    }
}

inline const std::string body_marker = "BODY-MARKER-do-not-echo";
inline const std::string secret = "w0rd-secret";

inline mail::message test_message(const std::string& to)
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
inline mail::smtp_error send_failure(const mail::smtp_sender& sender, const mail::message& m)
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

inline void check_no_secrets(const mail::smtp_error& e)
{
    std::string what = e.what();
    BOOST_TEST(what.find(body_marker) == std::string::npos, what);
    BOOST_TEST(what.find(secret) == std::string::npos, what);
    BOOST_TEST(what.find("Hello,") == std::string::npos, what);
}

} // namespace smtp_harness

using namespace smtp_harness;
