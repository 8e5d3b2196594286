// The gateway sending mail through a real TLS-capable SMTP server (STARTTLS, smtps, AUTH), in the same
// suite as the SMTP client's own tests (smtp_test.cpp).

#include "common/crypto/crypto.hpp"
#include "support/account_flow.hpp"
#include "support/http_call.hpp"
#include "support/process.hpp"
#include "support/services.hpp"
#include "support/stack.hpp"
#include "support/tls_cert.hpp"
#include "support/wait.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

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
        : dir(fs::temp_directory_path() / ("mb-smtp-tls-" + common::crypto::hex_encode(common::crypto::random_bytes(6))))
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
        : path(fs::temp_directory_path() / ("mb-ca-bundle-" + common::crypto::hex_encode(common::crypto::random_bytes(6)) + ".pem"))
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

BOOST_AUTO_TEST_SUITE(smtp)

BOOST_AUTO_TEST_CASE(gateway_sends_over_starttls_and_authenticates_inside_it)
{
    tls_sink sink({.tls = true, .implicit_tls = false, .auth = "mailer:s3cret pass", .auth_in_clear = false, .cert = nullptr});
    ca_bundle bundle(test::localhost_cert());
    // The password percent-encoded in the URL, as the README says.
    tls_gateway g("smtp://mailer:s3cret%20pass@127.0.0.1:" + std::to_string(sink.port), bundle);
    auto rcpt = test::unique_email("smtp-starttls");
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
    auto rcpt = test::unique_email("smtp-smtps");
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
    auto rcpt = test::unique_email("smtp-opportunistic");
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
    auto rcpt = test::unique_email("smtp-cleartext");
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
    auto rcpt = test::unique_email("smtp-untrusted");
    g.register_account(rcpt);
    BOOST_REQUIRE_MESSAGE(attempted_three_times_or_delivered(sink), "the gateway did not try to send:\n"
                                                                        << sink.proc->output());
    BOOST_TEST(sink.count_in_output("AUTH") == 0U, "the sink saw AUTH:\n" << sink.proc->output());
    BOOST_TEST(sink.messages().empty(), sink.messages().size() << " message(s) stored");
}

// `?starttls=required` in the URL: STARTTLS or nothing. A server that does not offer it gets no mail in
// clear text (the mail stays queued and is retried, with the reason logged); one that does gets it over TLS.
BOOST_AUTO_TEST_CASE(gateway_never_sends_in_clear_when_the_url_requires_starttls)
{
    tls_sink plain({.tls = false, .implicit_tls = false, .auth = "", .auth_in_clear = false, .cert = nullptr});
    ca_bundle bundle(test::localhost_cert());
    tls_gateway g("smtp://127.0.0.1:" + std::to_string(plain.port) + "?starttls=required", bundle);
    g.register_account(test::unique_email("smtp-required"));
    BOOST_REQUIRE_MESSAGE(attempted_three_times_or_delivered(plain), "the gateway did not try to send:\n"
                                                                         << plain.proc->output());
    BOOST_TEST(plain.messages().empty(), plain.messages().size() << " message(s) stored in clear text");
    auto log = g.gw.proc->output();
    BOOST_TEST(log.find("\"what\":\"mail.retry\"") != std::string::npos, log.substr(0, 4000));
    BOOST_TEST(log.find("STARTTLS") != std::string::npos, log.substr(0, 4000));

    tls_sink offering({.tls = true, .implicit_tls = false, .auth = "", .auth_in_clear = false, .cert = nullptr});
    tls_gateway g2("smtp://127.0.0.1:" + std::to_string(offering.port) + "?starttls=required", bundle);
    auto rcpt = test::unique_email("smtp-required-ok");
    g2.register_account(rcpt);
    BOOST_TEST(mail_for(offering, rcpt, g2).at("tls").as_bool());
}

BOOST_AUTO_TEST_SUITE_END()
