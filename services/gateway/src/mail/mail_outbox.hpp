#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <pqxx/transaction_base>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common::crypto {
class sealed_text;
}
namespace common::db {
class pg_pool;
}

namespace gateway {

using namespace common::aliases;

/** What a mail says: a subject, a plain-text part and an HTML part. */
struct mail_content
{
    std::string subject;
    std::string text;
    std::string html;
};

/** A mail claimed for sending. `content` is empty when it cannot be opened (a different MB_SECRET_KEY). */
struct queued_mail
{
    std::int64_t id = 0;
    std::string to;
    std::string kind;
    int attempts = 0;
    std::optional<mail_content> content;
};

/**
 * The mail outbox: mails are queued in the transaction of the change they announce and sent later by
 * `mail_worker`, with retries. The content is sealed under MB_SECRET_KEY (it may hold a token link) and
 * erased once sent or given up. Runs on the caller's executor; each query on the database pool's
 * workers. Thread-safety: shared.
 */
class mail_outbox
{
public:
    mail_outbox(common::db::pg_pool& db, const common::crypto::sealed_text& cipher)
        : db_(db)
        , cipher_(cipher)
    {
    }

    static std::vector<std::pair<std::string, std::string>> statements();

    /** Queues a mail inside `tx`. */
    void enqueue(pqxx::transaction_base& tx, const std::string& to, std::string_view kind, const mail_content& c) const;

    /** Claims up to `limit` due mails, leased to the caller for `lease`. */
    net::awaitable<std::vector<queued_mail>> claim(int limit, std::chrono::milliseconds lease);
    net::awaitable<void> sent(std::int64_t id);
    net::awaitable<void> retry(std::int64_t id, std::chrono::milliseconds delay, std::string error);
    net::awaitable<void> give_up(std::int64_t id, std::string error);
    /** Mails neither sent nor given up yet (due, waiting for a retry, or being sent). */
    net::awaitable<std::int64_t> depth();

private:
    common::db::pg_pool& db_;
    const common::crypto::sealed_text& cipher_;
};

} // namespace gateway
