#include "accounts/token_store.hpp"

#include "accounts/user_store.hpp"
#include "mail/mail_outbox.hpp"
#include "mail/mail_templates.hpp"
#include "mail/mail_worker.hpp"
#include "settings.hpp"

#include "common/crypto/crypto.hpp"
#include "common/db/pg_pool.hpp"
#include "common/web/problem.hpp"

#include <pqxx/result>
#include <pqxx/transaction>

namespace gateway {

std::string_view to_string(token_purpose p)
{
    switch (p) {
    case token_purpose::verify_email:
        return "verify_email";
    case token_purpose::reset_password:
        return "reset_password";
    case token_purpose::invite:
        return "invite";
    }
    return "verify_email";
}

namespace tokens {

namespace {

// Tokens are ours only if they look like ours; anything else is refused without a query.
bool plausible(std::string_view token)
{
    return token.size() >= 32 && token.size() <= 128;
}

} // namespace

std::vector<std::pair<std::string, std::string>> statements()
{
    return {
        {"token_insert",
         "INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at) "
         "VALUES ($1, $2::uuid, $3, now() + $4::bigint * interval '1 millisecond')"},
        {"token_peek",
         "SELECT user_id::text FROM account_tokens "
         "WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()"},
        {"token_consume",
         "UPDATE account_tokens SET used_at = now() "
         "WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() "
         "RETURNING user_id::text"},
        {"token_void_all",
         "UPDATE account_tokens SET used_at = now() "
         "WHERE user_id = $1::uuid AND purpose = $2 AND used_at IS NULL"},
    };
}

std::string issue(pqxx::transaction_base& tx, const std::string& user_id, token_purpose p,
                  std::chrono::milliseconds ttl)
{
    auto token = common::crypto::random_token(32);
    tx.exec_prepared("token_insert", common::crypto::sha256_hex(token), user_id, std::string(to_string(p)),
                     static_cast<std::int64_t>(ttl.count()));
    return token;
}

std::optional<std::string> peek(pqxx::transaction_base& tx, std::string_view token, token_purpose p)
{
    if (!plausible(token))
        return std::nullopt;
    auto r = tx.exec_prepared("token_peek", common::crypto::sha256_hex(token), std::string(to_string(p)));
    if (r.empty())
        return std::nullopt;
    return r[0][0].as<std::string>();
}

std::optional<std::string> consume(pqxx::transaction_base& tx, std::string_view token, token_purpose p)
{
    if (!plausible(token))
        return std::nullopt;
    auto r = tx.exec_prepared("token_consume", common::crypto::sha256_hex(token), std::string(to_string(p)));
    if (r.empty())
        return std::nullopt;
    return r[0][0].as<std::string>();
}

void void_all(pqxx::transaction_base& tx, const std::string& user_id, token_purpose p)
{
    tx.exec_prepared("token_void_all", user_id, std::string(to_string(p)));
}

} // namespace tokens

common::web::problem invalid_token()
{
    return common::web::bad_request("INVALID_TOKEN", "the token is unknown, already used or expired");
}

void token_mailer::queue(pqxx::transaction_base& tx, const user_record& u, token_purpose purpose) const
{
    if (purpose == token_purpose::verify_email) {
        auto token = tokens::issue(tx, u.id, purpose, d_.cfg.verify_token_ttl);
        d_.outbox.enqueue(tx, u.email, "verify_email",
                          verification_mail(u.name, token_link(d_.cfg.public_url, "/verify-email", token),
                                            d_.cfg.verify_token_ttl));
    } else {
        auto token = tokens::issue(tx, u.id, purpose, d_.cfg.reset_token_ttl);
        d_.outbox.enqueue(tx, u.email, "reset_password",
                          password_reset_mail(u.name, token_link(d_.cfg.public_url, "/reset-password", token),
                                              d_.cfg.reset_token_ttl));
    }
}

void token_mailer::sent() const
{
    d_.mailer.notify();
}

net::awaitable<void> token_mailer::mail_if(const std::string& email, token_purpose purpose,
                                           bool (*wanted)(const user_record&))
{
    bool queued = co_await d_.db.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto found = user_store::find_by_email(tx, email);
        if (!found || !wanted(found->first))
            return false;
        queue(tx, found->first, purpose);
        tx.commit();
        return true;
    });
    if (queued)
        sent();
}

} // namespace gateway
