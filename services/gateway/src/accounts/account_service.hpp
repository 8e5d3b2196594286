#pragma once

#include "sessions/session_store.hpp"
#include "accounts/token_store.hpp"
#include "accounts/user_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace common {
class blocking_pool;
}
namespace common::ratelimit {
class limiter;
struct rule;
}

namespace gateway {

struct settings;
class mail_outbox;
class mail_worker;
class login_guard;
class mode_linker;
class session_bus;

/** Who is asking: for rate limits and the session list. */
struct client_info
{
    std::string ip;
    std::string user_agent;
};

/** A successful sign-in: the new session and its account. */
struct sign_in
{
    new_session session;
    user_record user;
    /** For logins: the client's device token (login_guard), to present at its next login. */
    std::string device_token;
};

/**
 * The account flows of api.md (register, verify, resend, log in and out, forgot and reset the
 * password, accept an invitation, list and revoke sessions). Each flow validates its input, applies
 * the abuse limits, runs Argon2id on the bounded hashing pool, and commits the account change, its
 * token and its mail in one transaction. Failures are `problem`s with the contract's codes.
 * Thread-safety: shared.
 */
class account_service
{
public:
    struct parts
    {
        const settings& cfg;
        common::db::pg_pool& db;
        common::blocking_pool& hash_pool;
        common::ratelimit::limiter& limiter;
        login_guard& guard;
        user_store& users;
        session_store& sessions;
        mail_outbox& outbox;
        mail_worker& mailer;
        mode_linker& linker;
        session_bus& bus;
    };

    explicit account_service(parts p);

    /** Computes the dummy hash that unknown addresses are checked against (same cost as a real one).
        Blocking: called once before the service listens, so no login can ever meet it unset. */
    void prepare();

    net::awaitable<user_record> register_user(std::string email, std::string password, std::string name,
                                              const client_info& client);
    net::awaitable<user_record> verify_email(std::string token);
    net::awaitable<void> resend_verification(std::string email);
    /** `device_token`: what an earlier login on this client returned (see login_guard). */
    net::awaitable<sign_in> login(std::string email, std::string password, const client_info& client,
                                  std::optional<std::string> device_token = std::nullopt);
    net::awaitable<void> logout(const std::string& user_id, const std::string& session_id);
    net::awaitable<void> forgot_password(std::string email);
    net::awaitable<void> reset_password(std::string token, std::string password);
    net::awaitable<sign_in> accept_invite(std::string token, std::string password, std::optional<std::string> name,
                                          const client_info& client);
    net::awaitable<std::vector<session_summary>> list_sessions(std::string user_id);
    net::awaitable<void> revoke_session(std::string user_id, std::string session_id);

private:
    net::awaitable<sign_in> attempt_login(std::string email, std::string password, const client_info& client,
                                          std::optional<std::string> device_token);
    /** 429 RATE_LIMITED with Retry-After when `rule` denies `key` (counting the attempt when `count`). */
    net::awaitable<void> limit(const common::ratelimit::rule& rule, const std::string& key, bool count);
    net::awaitable<std::string> hash_password(std::string password);
    /** Issues a verification or reset token for `u` and queues its mail, inside `tx`. */
    void queue_token_mail(pqxx::transaction_base& tx, const user_record& u, token_purpose purpose) const;
    /** Mails a fresh token to the account with this address, if it has one and `wanted` says so. */
    net::awaitable<void> mail_token_if(const std::string& email, token_purpose purpose,
                                       bool (*wanted)(const user_record&));
    net::awaitable<bool> verify_password(std::string hash, std::string password);
    /** The account with this address and whether `password` is its password (a dummy hash otherwise). */
    net::awaitable<std::optional<std::pair<user_record, std::string>>> check_password(const std::string& email,
                                                                                      const std::string& password);

    parts p_;
    std::string dummy_hash_;
};

} // namespace gateway
