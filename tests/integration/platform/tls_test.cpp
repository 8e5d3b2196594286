// HTTPS and WSS serving (MB_TLS_CERT_FILE, MB_TLS_KEY_FILE) by the real gateway and webhook-ingest, with a
// self-signed certificate the client trusts and checks; plain HTTP on the TLS port is refused cleanly.
#include "support/live_deployment.hpp"
#include "support/tls_cert.hpp"
#include "support/wait.hpp"
#include "support/webhook.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/ssl.h>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace common::aliases;

namespace {

using tls_stream = ssl::stream<beast::tcp_stream>;

net::awaitable<void> exchange(tls_stream& stream, unsigned short port, http::request<http::string_body>& req,
                              http::response<http::string_body>& res)
{
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(std::chrono::seconds(10));
    co_await tcp.async_connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), net::use_awaitable);
    co_await stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
    co_await http::async_write(stream, req, net::use_awaitable);
    beast::flat_buffer buffer;
    co_await http::async_read(stream, buffer, res, net::use_awaitable);
}

// One HTTPS request to 127.0.0.1:port as "localhost", trusting only `trusted` and checking
// the name in it. Throws when the connection, the handshake or the exchange fails (10 s at most).
test::http_result https_call(unsigned short port, http::verb method, const std::string& target, std::string body = {},
                             const test::header_list& headers = {},
                             const test::self_signed_cert& trusted = test::localhost_cert())
{
    auto ctx = test::client_tls_context_trusting(trusted);
    ctx->set_verify_mode(ssl::verify_peer);
    net::io_context ioc;
    tls_stream stream(ioc, *ctx);
    // SNI (SSL_set_tlsext_host_name is a macro with an old-style cast).
    std::string host = "localhost";
    if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, host.data()) != 1)
        throw std::runtime_error("cannot set SNI");
    stream.set_verify_callback(ssl::host_name_verification("localhost"));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "localhost");
    for (const auto& [name, value] : headers)
        req.insert(name, value);
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = std::move(body);
    }
    req.prepare_payload();
    http::response<http::string_body> res;
    std::exception_ptr failed;
    bool done = false;
    net::co_spawn(ioc, exchange(stream, port, req, res), [&](std::exception_ptr e) {
        failed = e;
        done = true;
    });
    ioc.run_for(std::chrono::seconds(12));
    if (!done)
        throw std::runtime_error("https_call: no answer in time");
    if (failed)
        std::rethrow_exception(failed);
    test::http_result r;
    r.status = res.result_int();
    r.headers = res.base();
    r.body = res.body();
    return r;
}

bool ready_over_https(test::running_service& s)
{
    return test::eventually(
        [&] {
            if (!s.proc->running())
                return false;
            try {
                return https_call(s.port, http::verb::get, "/readyz").status == 200U;
            } catch (const std::exception&) {
                return false; // not listening yet
            }
        },
        std::chrono::seconds(30));
}

// Plain HTTP on a TLS port: no HTTP answer, the connection is closed (not left hanging), the service
// goes on serving HTTPS.
void refuses_plain_http(test::running_service& s)
{
    auto started = std::chrono::steady_clock::now();
    auto reply = test::raw_call(s.port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", std::chrono::seconds(10));
    auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(reply.rfind("HTTP/", 0) == std::string::npos, "a plain-HTTP answer on the TLS port: " << reply);
    BOOST_TEST(took < std::chrono::seconds(9), "the plain-HTTP connection was left open");
    BOOST_CHECK_THROW(test::http_call(s.port, http::verb::get, "/healthz", {}, {}, std::chrono::seconds(5)), std::exception);
    BOOST_TEST(s.proc->running());
    BOOST_TEST(https_call(s.port, http::verb::get, "/healthz").status == 200U);
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_serving)

BOOST_AUTO_TEST_CASE(gateway_and_ingest_serve_https_and_wss_with_the_configured_certificate)
{
    test::pem_files pem;
    test::redis_server redis;
    auto redis_url = "redis://127.0.0.1:" + std::to_string(redis.port());
    test::scratch_database db;
    auto sim = test::start_mode_sim();
    const std::map<std::string, std::string> tls{{"MB_TLS_CERT_FILE", pem.cert().string()},
                                                 {"MB_TLS_KEY_FILE", pem.key().string()},
                                                 {"MB_REDIS_URL", redis_url}};
    auto ingest = test::start_ingest(db.url(), tls, false);
    auto gw = test::start_gateway(db.url(), sim.base_url(), tls, false);
    BOOST_REQUIRE_MESSAGE(ready_over_https(ingest), "webhook-ingest did not become ready over HTTPS:\n"
                                                        << ingest.proc->output());
    BOOST_REQUIRE_MESSAGE(ready_over_https(gw), "the gateway did not become ready over HTTPS:\n" << gw.proc->output());
    for (auto* s : {&gw, &ingest}) {
        auto ready = https_call(s->port, http::verb::get, "/readyz");
        BOOST_TEST(ready.json().at("checks").at("database").as_string() == "ok");
        BOOST_TEST(ready.json().at("checks").at("redis").as_string() == "ok");
        BOOST_TEST(s->proc->output().find("\"tls\":true") != std::string::npos, s->proc->output());
    }

    // An account over HTTPS: register, verify through the mailed token, log in, create a home.
    auto email = test::unique_email("tls");
    auto reg = https_call(gw.port, http::verb::post, "/v1/auth/register",
                          json::serialize(json::object{{"email", email}, {"password", test::good_password}, {"name", "Tia"}}));
    BOOST_TEST_REQUIRE(reg.status == 201U, reg);
    auto verify = https_call(gw.port, http::verb::post, "/v1/auth/verify-email",
                             json::serialize(json::object{{"token", test::token_from_mail(email, "Confirm")}}));
    BOOST_TEST_REQUIRE(verify.status == 200U, verify);
    auto login = https_call(gw.port, http::verb::post, "/v1/auth/login",
                            json::serialize(json::object{{"email", email}, {"password", test::good_password}}));
    BOOST_TEST_REQUIRE(login.status == 200U, login);
    auto token = std::string(login.json().at("token").as_string());
    const test::header_list bearer{{"Authorization", "Bearer " + token}};
    auto created = https_call(gw.port, http::verb::post, "/v1/homes", R"({"name":"Secure home"})", bearer);
    BOOST_TEST_REQUIRE(created.status == 201U, created);
    auto home = created.json().at("id").as_int64();
    auto me = https_call(gw.port, http::verb::get, "/v1/me", {}, bearer);
    BOOST_TEST(me.status == 200U, me);
    BOOST_TEST(me.json().at("user").at("email").as_string() == email);

    // A WSS live stream receives an event posted to the ingest over HTTPS.
    test::ws_client ws(gw.port, "/v1/events", bearer, true);
    BOOST_TEST(live::until_ready(ws).empty());
    auto body = json::serialize(json::object{{"homeId", home}, {"eventType", "reading"}, {"eventData", {{"n", 42}}}});
    auto posted = https_call(ingest.port, http::verb::post, "/v1/mode/events", body,
                             test::webhook_signature(body));
    BOOST_TEST_REQUIRE(posted.status == 204U, posted);
    auto e = live::next(ws);
    BOOST_TEST(e.at("type").as_string() == "event");
    BOOST_TEST(e.at("homeId").as_int64() == home);
    BOOST_TEST(live::n_of(e) == 42);

    // Plain HTTP is not served on either port.
    refuses_plain_http(gw);
    refuses_plain_http(ingest);
    // The stream is still there.
    auto body2 = json::serialize(json::object{{"homeId", home}, {"eventType", "reading"}, {"eventData", {{"n", 43}}}});
    BOOST_TEST(https_call(ingest.port, http::verb::post, "/v1/mode/events", body2,
                          test::webhook_signature(body2))
                   .status == 204U);
    BOOST_TEST(live::n_of(live::next(ws)) == 43);
}

BOOST_AUTO_TEST_CASE(sighup_serves_a_renewed_certificate_to_new_connections_and_keeps_it_when_the_new_files_are_bad)
{
    test::pem_files pem; // the first certificate; its files are then overwritten with the renewed one
    auto renewed = test::make_self_signed_cert("localhost", "DNS:localhost,IP:127.0.0.1");
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url(), {{"MB_TLS_CERT_FILE", pem.cert().string()},
                                                {"MB_TLS_KEY_FILE", pem.key().string()}}, false);
    BOOST_REQUIRE_MESSAGE(ready_over_https(ingest), ingest.proc->output());
    auto presents = [&](const test::self_signed_cert& c) {
        try {
            return https_call(ingest.port, http::verb::get, "/healthz", {}, {}, c).status == 200U;
        } catch (const std::exception&) {
            return false; // the handshake failed: another certificate
        }
    };
    BOOST_TEST(presents(test::localhost_cert()));
    BOOST_TEST(!presents(renewed));

    auto write = [](const std::filesystem::path& path, const std::string& text) {
        std::ofstream(path, std::ios::trunc) << text;
    };
    write(pem.cert(), renewed.cert_pem);
    write(pem.key(), renewed.key_pem);
    BOOST_TEST(!presents(renewed), "the files alone changed what is served");
    ingest.proc->send_signal(SIGHUP);
    BOOST_TEST(test::eventually([&] { return presents(renewed); }), ingest.proc->output());
    BOOST_TEST(!presents(test::localhost_cert()));

    // A broken renewal: the certificate in use keeps serving, and the log says why.
    write(pem.cert(), "not a certificate");
    ingest.proc->send_signal(SIGHUP);
    BOOST_TEST(test::eventually([&] { return ingest.proc->output().find("tls.reload_failed") != std::string::npos; }),
               ingest.proc->output());
    BOOST_TEST(presents(renewed));
    BOOST_TEST(ingest.proc->running());
}

BOOST_AUTO_TEST_SUITE_END()
