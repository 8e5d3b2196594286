#include "accounts/password_reset.hpp"

#include "accounts/abuse_limits.hpp"
#include "accounts/password_hasher.hpp"
#include "accounts/token_store.hpp"
#include "accounts/validation.hpp"
#include "sessions/session_bus.hpp"
#include "sessions/session_store.hpp"
#include "settings.hpp"

#include "common/db/pg_pool.hpp"
#include "common/web/problem.hpp"

#include <pqxx/transaction>

namespace gateway {

net::awaitable<void> password_reset::forgot_password(std::string email)
{
    co_await enforce_limit(d_.limiter, d_.cfg.reset_mails_per_address, normalize_email(email), true);
    co_await d_.token_mails.mail_if(email, token_purpose::reset_password,
                                    [](const user_record& u) { return u.status == "active"; });
}

net::awaitable<void> password_reset::reset_password(std::string token, std::string password)
{
    validate_password(password);
    // Check the token before spending a hash on it; it is used (once) in the transaction below.
    auto owner = co_await d_.db.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        return tokens::peek(tx, token, token_purpose::reset_password);
    });
    if (!owner)
        throw invalid_token();
    auto hash = co_await d_.hasher.hash(std::move(password));
    auto user_id = co_await d_.db.run([&](pqxx::connection& c) -> std::optional<std::string> {
        pqxx::work tx(c);
        auto id = tokens::consume(tx, token, token_purpose::reset_password);
        if (!id || !user_store::set_password(tx, *id, hash))
            return std::nullopt;
        // Any other reset link mailed earlier dies with this one: it could undo the new password.
        tokens::void_all(tx, *id, token_purpose::reset_password);
        d_.sessions.revoke_all(tx, *id);
        tx.commit();
        return id;
    });
    if (!user_id)
        throw invalid_token();
    co_await d_.bus.user_changed(*user_id);
    // The reset proves the owner: lift a lock strangers' guesses put on the account.
    auto account = co_await d_.users.find(*user_id);
    if (account)
        co_await d_.guard.lift(normalize_email(account->email));
}

} // namespace gateway
