#pragma once

#include "mail_outbox.hpp"

#include "common/mail/smtp_sender.hpp"
#include "common/metrics.hpp"
#include "common/util/blocking_pool.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace gateway {

struct settings;

/**
 * Sends the outbox: claims due mails (a lease keeps instances off each other's mails), sends each over
 * SMTP on a small blocking pool, and records the outcome: sent (content erased), retried later with
 * jittered backoff (a transient failure: the server is down, busy, or refused for now), or given up
 * (refused for good). With no MB_SMTP_URL the mails are written to the log instead: development only.
 *
 * Runs on its own strand (`run`); `notify` may be called from anywhere when a mail was queued.
 */
class mail_worker
{
public:
    mail_worker(net::any_io_executor strand, mail_outbox& outbox, const settings& s, common::metrics::registry& m);

    net::awaitable<void> run();
    void stop();
    void notify();
    net::any_io_executor executor() { return timer_.get_executor(); }

    std::chrono::milliseconds backoff(int attempts) const;

private:
    net::awaitable<void> deliver(queued_mail& m);

    mail_outbox& outbox_;
    const settings& settings_;
    std::optional<common::mail::smtp_sender> sender_;
    common::blocking_pool pool_;
    net::steady_timer timer_;
    std::atomic<bool> stopped_{false};
    std::atomic<bool> pending_{false};
    common::metrics::counter& sent_;
    common::metrics::counter& retried_;
    common::metrics::counter& failed_;
};

} // namespace gateway
