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
}

// ---- The gateway against a real TLS-capable SMTP server ---------------------------------------------------
//
// scripts/smtp_sink.py started per test on its own port with a certificate made here, offering STARTTLS or
// speaking TLS at once (smtps), with AUTH for one user. The sink records, per message, whether it came over
// TLS and who authenticated. The gateway verifies the server against the system CAs (there is no CA
// setting): it runs in a private mount namespace (`unshare -m`, root) where the system bundle also holds the
// test's certificate, so nothing outside that process trusts it.

namespace {

namespace fs = std::filesystem;

struct tls_sink
{
    struct options
    {
        bool tls = true;
        bool implicit_tls = false;
        std::string auth;          // "user:password", empty: no AUTH offered
        bool auth_in_clear = false;
        const test::self_signed_cert* cert = nullptr; // default: localhost_cert()
    };

    explicit tls_sink(options o)
        : dir(fs::temp_directory_path() / ("mb-smtp-tls-" + random_tag()))
        , files(o.cert != nullptr ? *o.cert : test::localhost_cert())
        , port(test::free_port())
    {
        fs::create_directories(dir / "mail");
        test::process::options p;
        p.argv = {"/usr/bin/python3", std::string(MB_SOURCE_DIR) + "/scripts/smtp_sink.py", "--port", std::to_string(port),
                  "--maildir", (dir / "mail").string()};
        if (o.tls) {
            p.argv.insert(p.argv.end(), {"--tls-cert", files.cert().string(), "--tls-key", files.key().string()});
            if (o.implicit_tls)
                p.argv.emplace_back("--implicit-tls");
        }
        if (!o.auth.empty())
            p.argv.insert(p.argv.end(), {"--auth", o.auth});
        if (o.auth_in_clear)
            p.argv.emplace_back("--auth-in-clear");
        proc = std::make_unique<test::process>(std::move(p));
        BOOST_REQUIRE_MESSAGE(proc->wait_for_output("smtp_sink: listening", 20s), "the sink did not start:\n"
                                                                                      << proc->output());
    }
    ~tls_sink()
    {
        proc.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    /** The messages stored so far, parsed. */
    std::vector<boost::json::object> messages() const
    {
        std::vector<boost::json::object> out;
        for (const auto& e : fs::directory_iterator(dir / "mail"))
            if (e.path().extension() == ".json") {
                std::ifstream in(e.path());
                std::stringstream ss;
                ss << in.rdbuf();
                out.push_back(boost::json::parse(ss.str()).as_object());
            }
        return out;
    }
    std::size_t count_in_output(const std::string& needle) const
    {
        auto text = proc->output();
        std::size_t n = 0;
        for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
            ++n;
        return n;
    }

    fs::path dir;
    test::pem_files files;
    unsigned short port;
    std::unique_ptr<test::process> proc;
};

/** The system CA bundle plus `extra`, as a file the destructor removes. */
struct ca_bundle
{
    explicit ca_bundle(const test::self_signed_cert& extra)
        : path(fs::temp_directory_path() / ("mb-ca-bundle-" + random_tag() + ".pem"))
    {
        std::ifstream system("/etc/ssl/certs/ca-certificates.crt");
        std::stringstream all;
        all << system.rdbuf() << "\n" << extra.cert_pem;
        std::ofstream(path) << all.str();
    }
    ~ca_bundle()
    {
        std::error_code ec;
        fs::remove(path, ec);
    }
    fs::path path;
};

/** The gateway sending its mail to `smtp_url`, in a mount namespace whose system CA bundle is `bundle`. */
struct tls_gateway
{
    tls_gateway(const std::string& smtp_url, const ca_bundle& bundle)
        : sim(test::start_mode_sim())
    {
        gw.port = test::free_port();
        gw.env = {
            {"MB_LISTEN", "127.0.0.1:" + std::to_string(gw.port)},
            {"MB_DATABASE_URL", db.url()},
            {"MB_REDIS_URL", test::redis_url()},
            {"MB_SMTP_URL", smtp_url},
            {"MB_MODE_API_URL", sim.base_url()},
            {"MB_MODE_PROJECT_ID", "1"},
            {"MB_MODE_PROJECT_KEY", "sim-project-key"},
            {"MB_SECRET_KEY", test::random_secret_key()},
            {"MB_PUBLIC_URL", "http://app.example.test"},
            {"MB_THREADS", "2"},
            {"MB_PASSWORD_HASH_THREADS", "1"},
            {"MB_MAIL_RETRY_MIN", "200ms"},
            {"MB_MAIL_RETRY_MAX", "500ms"},
            {"MB_LOG_LEVEL", "info"},
        };
        test::process::options o;
        o.argv = {"unshare", "-m", "/bin/sh", "-c",
                  "mount --bind \"$0\" /etc/ssl/certs/ca-certificates.crt && exec \"$1\"", bundle.path.string(),
                  test::binary_path("services/gateway/modebridge-gateway")};
        o.env = gw.env;
        gw.proc = std::make_unique<test::process>(std::move(o));
        BOOST_REQUIRE_MESSAGE(test::wait_until_ready(gw), "the gateway did not start (it needs root for unshare -m):\n"
                                                              << gw.proc->output());
    }

    /** Registers `email`: the gateway mails it a verification link. */
    void register_account(const std::string& email)
    {
        auto body = boost::json::serialize(boost::json::object{
            {"email", email}, {"password", "correct horse battery staple"}, {"name", "Mail Test"}});
        auto r = test::http_call(gw.port, boost::beast::http::verb::post, "/v1/auth/register", body);
        BOOST_REQUIRE_MESSAGE(r.status == 201U, r);
    }

    test::scratch_database db;
    test::running_service sim;
    test::running_service gw;
};

/** The one message the sink stored for `rcpt` (fails the test when none arrives within 30 s). */
boost::json::object mail_for(const tls_sink& sink, const std::string& rcpt, const tls_gateway& g)
{
    std::optional<boost::json::object> found;
    bool arrived = test::eventually(
        [&] {
            for (auto& m : sink.messages())
                if (m.at("rcpt_tos").as_array().size() == 1 && m.at("rcpt_tos").as_array()[0].as_string() == rcpt)
                    found = m;
            return found.has_value();
        },
        30s);
    BOOST_REQUIRE_MESSAGE(arrived, "no mail for " << rcpt << "; sink:\n"
                                                  << sink.proc->output() << "\ngateway:\n"
                                                  << g.gw.proc->output().substr(0, 4000));
    return *found;
}

/** Waits (at most 30 s) until the sink saw three connections end, or stored a message. */
bool attempted_three_times_or_delivered(const tls_sink& sink)
{
    return test::eventually(
        [&] { return sink.count_in_output("smtp_sink: connection lost") >= 3U || !sink.messages().empty(); }, 30s);
}

} // namespace

BOOST_AUTO_TEST_CASE(gateway_sends_over_starttls_and_authenticates_inside_it)
{
    tls_sink sink({.tls = true, .implicit_tls = false, .auth = "mailer:s3cret pass", .auth_in_clear = false, .cert = nullptr});
    ca_bundle bundle(test::localhost_cert());
    // The password percent-encoded in the URL, as the README says.
    tls_gateway g("smtp://mailer:s3cret%20pass@127.0.0.1:" + std::to_string(sink.port), bundle);
    auto rcpt = unique_rcpt("starttls");
    g.register_account(rcpt);
    auto m = mail_for(sink, rcpt, g);
    BOOST_TEST(m.at("tls").as_bool(), boost::json::serialize(m.at("tls")));
    BOOST_TEST(std::string(m.at("tls_version").is_string() ? m.at("tls_version").as_string() : "none").starts_with("TLSv1"));
    BOOST_TEST((m.at("auth_user").is_string() && m.at("auth_user").as_string() == "mailer"),
               boost::json::serialize(m.at("auth_user")));
    BOOST_TEST(std::string(m.at("data").as_string()).find("Subject:") != std::string::npos);
    // Authenticated once, inside TLS, and never tried in clear text.
    BOOST_TEST(sink.count_in_output("user=mailer tls=True ok=True") == 1U, sink.proc->output());
    BOOST_TEST(sink.count_in_output("tls=False") == 0U, sink.proc->output());
}

BOOST_AUTO_TEST_CASE(gateway_sends_over_implicit_tls_with_smtps)
{
    tls_sink sink({.tls = true, .implicit_tls = true, .auth = "mailer:pw", .auth_in_clear = false, .cert = nullptr});
    ca_bundle bundle(test::localhost_cert());
    tls_gateway g("smtps://mailer:pw@127.0.0.1:" + std::to_string(sink.port), bundle);
    auto rcpt = unique_rcpt("smtps");
    g.register_account(rcpt);
    auto m = mail_for(sink, rcpt, g);
    BOOST_TEST(m.at("tls").as_bool());
    BOOST_TEST((m.at("auth_user").is_string() && m.at("auth_user").as_string() == "mailer"),
               boost::json::serialize(m.at("auth_user")));
    BOOST_TEST(sink.count_in_output("user=mailer tls=True ok=True") == 1U, sink.proc->output());
}

BOOST_AUTO_TEST_CASE(gateway_uses_starttls_when_offered_even_without_credentials)
{
    tls_sink sink({.tls = true, .implicit_tls = false, .auth = "", .auth_in_clear = false, .cert = nullptr});
    ca_bundle bundle(test::localhost_cert());
    tls_gateway g("smtp://127.0.0.1:" + std::to_string(sink.port), bundle);
    auto rcpt = unique_rcpt("opportunistic");
    g.register_account(rcpt);
    auto m = mail_for(sink, rcpt, g);
    BOOST_TEST(m.at("tls").as_bool());
    BOOST_TEST(m.at("auth_user").is_null());
}

// With credentials in the URL, a server that offers AUTH but not STARTTLS gets no password and no mail: the
// gateway keeps retrying (each attempt a connection the sink logs) and never authenticates.
BOOST_AUTO_TEST_CASE(gateway_never_sends_credentials_to_a_server_without_tls)
{
    tls_sink sink({.tls = false, .implicit_tls = false, .auth = "mailer:pw", .auth_in_clear = true, .cert = nullptr});
    ca_bundle bundle(test::localhost_cert());
    tls_gateway g("smtp://mailer:pw@127.0.0.1:" + std::to_string(sink.port), bundle);
    auto rcpt = unique_rcpt("cleartext");
    g.register_account(rcpt);
    // Three attempts, each over (or a message, should one get through): enough to know what the gateway does
    // with this server.
    BOOST_REQUIRE_MESSAGE(attempted_three_times_or_delivered(sink), "the gateway did not try to send:\n"
                                                                        << sink.proc->output());
    BOOST_TEST(sink.count_in_output("AUTH") == 0U, "the sink saw AUTH:\n" << sink.proc->output());
    BOOST_TEST(sink.messages().empty(), sink.messages().size() << " message(s) stored");
}

// TLS verifies the server: a certificate no CA of the bundle signed gets no mail (and no password).
BOOST_AUTO_TEST_CASE(gateway_refuses_a_server_certificate_it_cannot_verify)
{
    auto stranger = test::make_self_signed_cert("localhost", "DNS:localhost,IP:127.0.0.1");
    tls_sink sink({.tls = true, .implicit_tls = false, .auth = "mailer:pw", .auth_in_clear = false, .cert = &stranger});
    ca_bundle bundle(test::localhost_cert()); // trusts another certificate for the same names
    tls_gateway g("smtp://mailer:pw@127.0.0.1:" + std::to_string(sink.port), bundle);
    auto rcpt = unique_rcpt("untrusted");
    g.register_account(rcpt);
    BOOST_REQUIRE_MESSAGE(attempted_three_times_or_delivered(sink), "the gateway did not try to send:\n"
                                                                        << sink.proc->output());
    BOOST_TEST(sink.count_in_output("AUTH") == 0U, "the sink saw AUTH:\n" << sink.proc->output());
    BOOST_TEST(sink.messages().empty(), sink.messages().size() << " message(s) stored");
}

BOOST_AUTO_TEST_SUITE_END()

