#pragma once

// Blocking SMTP submission on libcurl, for the gateway's mail outbox workers.

#include "common/mail/message.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace common::mail {

/**
 * Sending failed. `permanent()`: the server refused this message for good (a 5xx reply to MAIL
 * FROM, RCPT TO, DATA or the end of data), so retrying it is pointless. Otherwise transient:
 * connection refused or reset, timeout, DNS, TLS, a 4xx reply, a 5xx before MAIL FROM (greeting,
 * EHLO, AUTH: a server or configuration problem, not the message's): retry later.
 * `what()` names the server (without credentials), the stage and curl's reason or the server's
 * reply line; it never holds the password or the message.
 */
class smtp_error : public std::runtime_error
{
public:
    smtp_error(const std::string& what, bool permanent)
        : std::runtime_error(what)
        , permanent_(permanent)
    {}
    bool permanent() const noexcept { return permanent_; }

private:
    bool permanent_;
};

/** Where and how to submit mail. */
struct smtp_options
{
    /**
     * `smtp://[user:pass@]host[:port][?starttls=required]` (default port 25; STARTTLS when the
     * server offers it, and required when credentials are given, so a password never crosses in
     * clear text, or when `starttls=required`: then a server without STARTTLS, or a failed
     * handshake, gets no mail at all, a transient smtp_error) or
     * `smtps://[user:pass@]host[:port]` (default 465; implicit TLS). TLS always verifies the
     * peer certificate and host name against the system CAs. User and password are
     * percent-decoded. The only query parameter is `starttls` (`required` or `opportunistic`, the
     * default); any other is refused. Path and fragment are ignored.
     */
    std::string url;
    std::chrono::milliseconds connect_timeout{5000}; // TCP (and TLS) connect
    std::chrono::milliseconds timeout{30000};        // the whole send, connect included
    std::string helo_domain = "localhost";           // our name in EHLO/HELO
};

/**
 * Submits rendered messages over SMTP, one connection per send(): connect, (STARTTLS,) EHLO,
 * (AUTH,) MAIL FROM, RCPT TO, DATA, QUIT. Blocking, bounded by `timeout`: call it from a worker
 * thread, never from an I/O thread.
 *
 * Thread-safety: send() is const and uses one CURL easy handle per call, so one sender may be
 * shared by any number of threads (distinct and shared objects are safe). The constructor
 * initialises libcurl globally once per process (std::call_once).
 */
class smtp_sender
{
public:
    /** Throws std::invalid_argument for a bad URL, scheme, helo_domain or timeout. */
    explicit smtp_sender(smtp_options o);

    /**
     * Sends `rendered` (from render(m, ...)) with envelope MAIL FROM address_of(m.from) and RCPT
     * TO address_of(m.to). Returns once the server accepted the message (250 to the end of
     * data). Throws smtp_error when sending failed, std::invalid_argument for a bad address.
     */
    void send(const message& m, std::string_view rendered) const;

    /** The server as `scheme://host:port`, without credentials: fit for logs. */
    const std::string& server() const noexcept { return server_; }

private:
    smtp_options options_; // url replaced by the credential-free URL curl gets
    std::string server_;
    std::string user_;
    std::string password_;
    bool implicit_tls_ = false;
    bool starttls_required_ = false;
};

} // namespace common::mail
