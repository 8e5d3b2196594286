#include "mail_worker.hpp"

#include "mail_templates.hpp"
#include "settings.hpp"

#include "common/crypto/crypto.hpp"
#include "common/log.hpp"
#include "common/mail/message.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <random>

namespace gateway {

using namespace std::chrono;

namespace {
constexpr int batch = 16;
constexpr milliseconds lease{120'000};
constexpr milliseconds poll{1'000};
} // namespace

mail_worker::mail_worker(net::any_io_executor strand, mail_outbox& outbox, const settings& s,
                         common::metrics::registry& m)
    : outbox_(outbox)
    , settings_(s)
    , pool_(2)
    , timer_(std::move(strand))
    , sent_(m.counter_for("mb_mail_total", "Outgoing mails by outcome", {{"outcome", "sent"}}))
    , retried_(m.counter_for("mb_mail_total", "Outgoing mails by outcome", {{"outcome", "retry"}}))
    , failed_(m.counter_for("mb_mail_total", "Outgoing mails by outcome", {{"outcome", "failed"}}))
{
    if (!s.smtp_url.empty()) {
        common::mail::smtp_options o;
        o.url = s.smtp_url;
        sender_.emplace(std::move(o));
    }
}

milliseconds mail_worker::backoff(int attempts) const
{
    long long d = settings_.mail_retry_min.count();
    for (int i = 0; i < attempts && d < settings_.mail_retry_max.count(); ++i)
        d *= 2;
    d = std::min<long long>(d, settings_.mail_retry_max.count());
    thread_local std::mt19937_64 gen{std::random_device{}()};
    return milliseconds(std::uniform_int_distribution<long long>(d / 2, d)(gen));
}

net::awaitable<void> mail_worker::deliver(queued_mail& m)
{
    if (!m.content) {
        // Sealed under another MB_SECRET_KEY: it can never be sent by this deployment.
        failed_.inc();
        common::log::error("mail.unreadable", {{"mail_id", m.id}, {"kind", m.kind}});
        co_await outbox_.give_up(m.id, "content cannot be opened with the current MB_SECRET_KEY");
        co_return;
    }
    common::mail::message msg{settings_.mail_from, m.to, m.content->subject, m.content->text, m.content->html};
    if (!sender_) {
        // The link's token stays out of the log: whoever reads it could use the link in the user's place.
        common::log::warn("mail.logged", {{"note", "MB_SMTP_URL is unset: development only, mail not sent"},
                                          {"to", m.to},
                                          {"kind", m.kind},
                                          {"subject", msg.subject},
                                          {"text", without_link_tokens(msg.text)}});
        sent_.inc();
        co_await outbox_.sent(m.id);
        co_return;
    }
    std::string error;
    bool permanent = false;
    try {
        // The same Message-ID on every attempt: a mail the server took twice (its answer to the first
        // was lost) is one mail to the recipient. Keyed, so other deployments never produce it.
        auto message_id = common::crypto::hmac_sha256_hex(settings_.mac_key, "mail " + std::to_string(m.id)).substr(0, 32);
        std::string rendered;
        try {
            rendered = common::mail::render(msg, message_id);
        } catch (const std::exception&) {
            // A mail that cannot be formed (a header value with a line break, bad UTF-8) will not form on
            // the next attempt either: given up at once rather than retried forever.
            permanent = true;
            throw;
        }
        co_await pool_.run([&] { sender_->send(msg, rendered); });
    } catch (const common::mail::smtp_error& e) {
        error = e.what();
        permanent = e.permanent();
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (error.empty()) {
        sent_.inc();
        common::log::info("mail.sent", {{"mail_id", m.id}, {"kind", m.kind}});
        co_await outbox_.sent(m.id);
    } else if (permanent) {
        failed_.inc();
        common::log::error("mail.refused", {{"mail_id", m.id}, {"kind", m.kind}, {"error", error}});
        co_await outbox_.give_up(m.id, error.substr(0, 500));
    } else {
        retried_.inc();
        auto delay = backoff(m.attempts);
        common::log::warn("mail.retry",
                          {{"mail_id", m.id}, {"kind", m.kind}, {"error", error}, {"retry_in_ms", delay.count()}});
        co_await outbox_.retry(m.id, delay, error.substr(0, 500));
    }
}

net::awaitable<void> mail_worker::run()
{
    while (!stopped_) {
        pending_ = false;
        bool busy = false;
        try {
            auto mails = co_await outbox_.claim(batch, lease);
            busy = static_cast<int>(mails.size()) == batch;
            for (auto& m : mails)
                co_await deliver(m);
        } catch (const std::exception& e) {
            common::log::warn("mail.worker", {{"error", e.what()}});
        }
        if (busy || pending_ || stopped_)
            continue;
        timer_.expires_after(poll);
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
}

void mail_worker::notify()
{
    pending_ = true;
    net::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

void mail_worker::stop()
{
    stopped_ = true;
    net::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

} // namespace gateway
