#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <pqxx/transaction_base>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common::db {
class pg_pool;
}
namespace common::web {
class problem;
}

namespace gateway {

using namespace common::aliases;

struct settings;
struct user_record;
class mail_outbox;
class mail_worker;

enum class token_purpose { verify_email, reset_password, invite };

std::string_view to_string(token_purpose p);

/**
 * One-time account tokens (verification, password reset, invitation): 256 random bits, handed out
 * once (for the mail) and stored only as their SHA-256. These run inside the caller's transaction so
 * a token, the change it belongs to and its mail commit together.
 */
namespace tokens {

std::vector<std::pair<std::string, std::string>> statements();

/** Issues a token for `user_id`; returns the token itself (never stored). */
std::string issue(pqxx::transaction_base& tx, const std::string& user_id, token_purpose p,
                  std::chrono::milliseconds ttl);

/** The account of a token that is unused and unexpired, without using it. */
std::optional<std::string> peek(pqxx::transaction_base& tx, std::string_view token, token_purpose p);

/** Uses the token: the account id, or nullopt when unknown, used or expired. */
std::optional<std::string> consume(pqxx::transaction_base& tx, std::string_view token, token_purpose p);

/** Voids every outstanding token of `user_id` for `p` (after one of them was used). */
void void_all(pqxx::transaction_base& tx, const std::string& user_id, token_purpose p);

} // namespace tokens

/** 400 INVALID_TOKEN: the token is unknown, already used or expired. */
common::web::problem invalid_token();

/**
 * Mails verification and reset tokens: issues the token and queues its mail (sealed, in the outbox) in
 * one transaction, then wakes the mail worker. Runs on the caller's executor; queries on the database
 * pool's workers. Thread-safety: shared.
 */
class token_mailer
{
public:
    struct deps
    {
        const settings& cfg;
        common::db::pg_pool& db;
        mail_outbox& outbox;
        mail_worker& mailer;
    };

    explicit token_mailer(deps d)
        : d_(d)
    {
    }

    /** Issues a verification or reset token for `u` and queues its mail, inside `tx`; the caller then
        calls `sent` after the commit. */
    void queue(pqxx::transaction_base& tx, const user_record& u, token_purpose purpose) const;
    /** Wakes the mail worker: a mail was committed to the outbox. */
    void sent() const;
    /** Mails a fresh token to the account with this address, if it has one and `wanted` says so. */
    net::awaitable<void> mail_if(const std::string& email, token_purpose purpose, bool (*wanted)(const user_record&));

private:
    deps d_;
};

} // namespace gateway
