#include "common/mail/smtp_sender.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include <curl/curl.h>

namespace common::mail {

namespace {

void global_init()
{
    // curl_global_init is not thread-safe on every build; once per process, never cleaned up
    // (other threads may still be sending when statics are destroyed).
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw std::runtime_error("smtp: curl_global_init failed");
    });
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/** The SMTP command a reply answers, as far as the error's permanence goes. */
enum class stage
{
    session,
    mail_from,
    rcpt_to,
    data,
    end_of_data,
    quit
};

const char* stage_name(stage s)
{
    switch (s) {
    case stage::mail_from:
        return "MAIL FROM";
    case stage::rcpt_to:
        return "RCPT TO";
    case stage::data:
        return "DATA";
    case stage::end_of_data:
        return "end of data";
    case stage::quit:
        return "QUIT";
    case stage::session:
        break;
    }
    return "session set-up";
}

/** One send's state, shared with curl's callbacks (same thread, during curl_easy_perform). */
struct transfer
{
    std::string_view body;
    std::size_t sent = 0;
    stage last_command = stage::session;
    // The last 4xx/5xx reply before QUIT, and the command it answered.
    int failed_code = 0;
    stage failed_at = stage::session;
    std::string failed_reply;
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* user)
{
    auto* t = static_cast<transfer*>(user);
    auto n = std::min(size * count, t->body.size() - t->sent);
    std::copy_n(t->body.data() + t->sent, n, buffer);
    t->sent += n;
    return n;
}

/** A reply line fit for an error message: printable ASCII, bounded. */
std::string clean_reply(std::string_view line)
{
    std::string out;
    for (char c : line.substr(0, 200))
        if (c >= ' ' && c <= '~')
            out += c;
    return out;
}

// Follows the dialogue through curl's debug stream to learn which command a failing reply
// answered; curl's own result code does not say (e.g. a 5xx greeting and a 5xx to the end of
// data both give CURLE_WEIRD_SERVER_REPLY). Only command prefixes are looked at: AUTH lines
// carry credentials and are neither kept nor logged.
int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user)
{
    auto* t = static_cast<transfer*>(user);
    std::string_view text(data, size);
    if (type == CURLINFO_HEADER_OUT) {
        auto starts = [&](std::string_view p) {
            return text.substr(0, p.size()) == p;
        };
        t->last_command = starts("MAIL FROM:") ? stage::mail_from
                          : starts("RCPT TO:") ? stage::rcpt_to
                          : starts("DATA\r")   ? stage::data
                          : starts("QUIT\r")   ? stage::quit
                                               : stage::session;
    } else if (type == CURLINFO_DATA_OUT && t->last_command == stage::data) {
        t->last_command = stage::end_of_data; // the next reply is to the message itself
    } else if (type == CURLINFO_HEADER_IN && t->last_command != stage::quit) {
        auto line = text.substr(0, text.find_first_of("\r\n"));
        bool coded = line.size() >= 3 && std::all_of(line.begin(), line.begin() + 3, [](char c) {
                         return c >= '0' && c <= '9';
                     });
        if (coded && line[0] >= '4') {
            t->failed_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            t->failed_at = t->last_command;
            t->failed_reply = clean_reply(line);
        }
    }
    return 0;
}

struct easy_deleter
{
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct slist_deleter
{
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

template <class T>
void set(CURL* h, CURLoption option, T value)
{
    if (auto rc = curl_easy_setopt(h, option, value); rc != CURLE_OK)
        throw smtp_error(std::string("smtp: curl_easy_setopt: ") + curl_easy_strerror(rc), false);
}

long millis(std::chrono::milliseconds d)
{
    return static_cast<long>(d.count());
}

bool valid_helo(std::string_view s)
{
    return !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               std::string_view(".-:[]").find(c) != std::string_view::npos;
    });
}

} // namespace

smtp_sender::smtp_sender(smtp_options o)
    : options_(std::move(o))
{
    // Errors here never quote the URL: it may hold the password.
    auto parsed = boost::urls::parse_uri(options_.url);
    if (!parsed)
        throw std::invalid_argument("smtp url: not a valid URL");
    auto scheme = lower(parsed->scheme());
    if (scheme != "smtp" && scheme != "smtps")
        throw std::invalid_argument("smtp url: scheme must be smtp or smtps");
    if (parsed->encoded_host().empty())
        throw std::invalid_argument("smtp url: no host");
    if (!valid_helo(options_.helo_domain))
        throw std::invalid_argument("smtp helo_domain: not a host name");
    if (options_.connect_timeout.count() <= 0 || options_.timeout.count() <= 0)
        throw std::invalid_argument("smtp timeouts must be positive");

    // The one query parameter: starttls=required (STARTTLS or no mail) or starttls=opportunistic (the
    // default: STARTTLS when offered). Anything else is refused, so a misspelt requirement is never
    // silently dropped.
    for (auto param : parsed->params()) {
        if (param.key != "starttls")
            throw std::invalid_argument("smtp url: unknown query parameter (only starttls=required|opportunistic)");
        if (param.value == "required")
            starttls_required_ = true;
        else if (param.value != "opportunistic")
            throw std::invalid_argument("smtp url: starttls must be required or opportunistic");
    }
    implicit_tls_ = scheme == "smtps";
    user_ = parsed->user();
    password_ = parsed->password();
    auto host = lower(parsed->encoded_host());
    auto port = parsed->has_port() ? std::string(parsed->port()) : implicit_tls_ ? "465" : "25";
    server_ = scheme + "://" + host + ":" + port;
    // curl takes the EHLO name from the URL's path.
    options_.url = server_ + "/" + options_.helo_domain;
    global_init();
}

void smtp_sender::send(const message& m, std::string_view rendered) const
{
    auto from = "<" + address_of(m.from) + ">";
    auto to = "<" + address_of(m.to) + ">";
    if (rendered.empty())
        throw std::invalid_argument("smtp send: empty message");

    std::unique_ptr<CURL, easy_deleter> h(curl_easy_init());
    if (!h)
        throw smtp_error("smtp " + server_ + ": curl_easy_init failed", false);
    std::unique_ptr<curl_slist, slist_deleter> rcpt(curl_slist_append(nullptr, to.c_str()));
    if (!rcpt)
        throw smtp_error("smtp " + server_ + ": out of memory", false);

    transfer t;
    t.body = rendered;
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    CURL* c = h.get();
    set(c, CURLOPT_URL, options_.url.c_str());
    set(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    // Worker threads: no SIGALRM-based DNS timeouts, no signal handler changes.
    set(c, CURLOPT_NOSIGNAL, 1L);
    set(c, CURLOPT_CONNECTTIMEOUT_MS, millis(options_.connect_timeout));
    set(c, CURLOPT_TIMEOUT_MS, millis(options_.timeout));
    // Also bounds the QUIT exchange, which CURLOPT_TIMEOUT does not cover (default 120 s).
    auto response_s = std::max<long>(1, static_cast<long>((options_.timeout.count() + 999) / 1000));
    set(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, response_s);
    // One connection per send, closed (QUIT) inside curl_easy_perform.
    set(c, CURLOPT_FORBID_REUSE, 1L);
    // STARTTLS when offered; mandatory when the URL says so, or when a password would otherwise cross in
    // clear text. Mandatory means curl gives up (CURLE_USE_SSL_FAILED) rather than go on without it.
    bool require_tls = implicit_tls_ || starttls_required_ || !user_.empty() || !password_.empty();
    set(c, CURLOPT_USE_SSL, static_cast<long>(require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    set(c, CURLOPT_SSL_VERIFYPEER, 1L);
    set(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!user_.empty() || !password_.empty()) {
        set(c, CURLOPT_USERNAME, user_.c_str());
        set(c, CURLOPT_PASSWORD, password_.c_str());
    }
    set(c, CURLOPT_MAIL_FROM, from.c_str());
    set(c, CURLOPT_MAIL_RCPT, rcpt.get());
    set(c, CURLOPT_UPLOAD, 1L);
    set(c, CURLOPT_READFUNCTION, &read_body);
    set(c, CURLOPT_READDATA, &t);
    set(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(rendered.size()));
    set(c, CURLOPT_ERRORBUFFER, error_buffer.data());
    // Verbose output goes only to on_debug (never to stderr): it tracks the dialogue.
    set(c, CURLOPT_DEBUGFUNCTION, &on_debug);
    set(c, CURLOPT_DEBUGDATA, &t);
    set(c, CURLOPT_VERBOSE, 1L);

    auto rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        return;

    bool refused = t.failed_code >= 500 && t.failed_code < 600 &&
                   (t.failed_at == stage::mail_from || t.failed_at == stage::rcpt_to ||
                    t.failed_at == stage::data || t.failed_at == stage::end_of_data);
    std::string what = "smtp " + server_ + ": ";
    if (refused) {
        what += std::string(stage_name(t.failed_at)) + " refused: " + t.failed_reply;
    } else {
        what += curl_easy_strerror(rc);
        if (error_buffer[0] != '\0')
            what += std::string(" (") + error_buffer.data() + ")";
        if (rc == CURLE_USE_SSL_FAILED)
            what += "; TLS is required (STARTTLS), so the mail was not sent in clear text";
        if (t.failed_code != 0)
            what += std::string("; reply to ") + stage_name(t.failed_at) + ": " + t.failed_reply;
    }
    // Defence in depth: whatever curl or the server said, the password does not leave here.
    if (!password_.empty())
        for (auto pos = what.find(password_); pos != std::string::npos;
             pos = what.find(password_, pos + 3))
            what.replace(pos, password_.size(), "***");
    throw smtp_error(what, refused);
}

} // namespace common::mail
