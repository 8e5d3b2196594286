#include "accounts/token_store.hpp"

#include "common/crypto/crypto.hpp"

#include <pqxx/result>

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

} // namespace gateway
