#include "mail/mail_worker.hpp"

#include "mail/mail_templates.hpp"
#include "settings.hpp"

#include "common/crypto/crypto.hpp"
#include "common/log.hpp"
#include "common/mail/message.hpp"

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
    , retry_(s.mail_retry_min, s.mail_retry_max, common::jitter::equal)
    // An error (the database) waits as long as an idle poll.
    , loop_(std::move(strand), "mail.worker", poll, common::backoff(poll, poll, common::jitter::none))
    , sent_(m.counter_for("mb_mail_total", "Outgoing mails by outcome", {{"outcome", "sent"}}))
    , retried_(m.counter_for("mb_mail_total", "Outgoing mails by outcome", {{"outcome", "retry"}}))
    , failed_(m.counter_for("mb_mail_total", "Outgoing mails by outcome", {{"outcome", "failed"}}))
    , depth_(m.gauge_for("mb_mail_outbox_depth", "Mails in the outbox neither sent nor given up (read every pass)"))
{
    if (!s.smtp_url.empty()) {
        common::mail::smtp_options o;
        o.url = s.smtp_url;
        sender_.emplace(std::move(o));
    }
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
    co_await loop_.run([this]() -> net::awaitable<bool> {
        auto mails = co_await outbox_.claim(batch, lease);
        for (auto& m : mails)
            co_await deliver(m);
        depth_.set(co_await outbox_.depth()); // the whole deployment's outbox, as every instance sees it
        co_return static_cast<int>(mails.size()) == batch; // a full batch: more may be due
    });
}

void mail_worker::notify()
{
    loop_.wake();
}

void mail_worker::stop()
{
    loop_.stop();
}

} // namespace gateway
