#pragma once

#include "mail/mail_outbox.hpp"

#include "common/mail/smtp_sender.hpp"
#include "common/metrics.hpp"
#include "common/util/background_loop.hpp"
#include "common/util/backoff.hpp"
#include "common/util/blocking_pool.hpp"

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
 * Runs on the strand given at construction (`run` is spawned there; SMTP itself on the blocking pool).
 * Thread-safety: `notify` (a mail was queued) and `stop` may be called from anywhere.
 */
class mail_worker
{
public:
    mail_worker(net::any_io_executor strand, mail_outbox& outbox, const settings& s, common::metrics::registry& m);

    net::awaitable<void> run();
    void stop();
    void notify();
    net::any_io_executor executor() { return loop_.executor(); }

    /** The delay before attempt number `attempts + 1`, jittered into [d/2, d]. */
    std::chrono::milliseconds backoff(int attempts) const { return retry_.delay(static_cast<unsigned>(attempts)); }

private:
    net::awaitable<void> deliver(queued_mail& m);

    mail_outbox& outbox_;
    const settings& settings_;
    std::optional<common::mail::smtp_sender> sender_;
    common::blocking_pool pool_;
    common::backoff retry_;
    common::background_loop loop_;
    common::metrics::counter& sent_;
    common::metrics::counter& retried_;
    common::metrics::counter& failed_;
    common::metrics::gauge& depth_;
};

} // namespace gateway
