#include "accounts/account_service.hpp"

#include "accounts/login_guard.hpp"
#include "mail/mail_outbox.hpp"
#include "mail/mail_templates.hpp"
#include "mail/mail_worker.hpp"
#include "mode/mode_linker.hpp"
#include "accounts/rate_limits.hpp"
#include "sessions/session_bus.hpp"
#include "settings.hpp"
#include "accounts/token_store.hpp"
#include "accounts/validation.hpp"

#include "common/crypto/crypto.hpp"
#include "common/log.hpp"
#include "common/ratelimit/limiter.hpp"
#include "common/util/blocking_pool.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <pqxx/transaction>

namespace gateway {

using common::web::problem;

namespace {

problem invalid_token()
{
    return common::web::bad_request("INVALID_TOKEN", "the token is unknown, already used or expired");
}

problem invalid_credentials()
{
    return problem(http::status::unauthorized, "INVALID_CREDENTIALS", "the email address or the password is wrong");
}

problem hashing_busy()
{
    return problem(http::status::service_unavailable, "BUSY", "too many password checks at once; try again shortly")
        .with_header("Retry-After", "1");
}

} // namespace

account_service::account_service(parts p)
    : p_(p)
{
}

void account_service::prepare()
{
    dummy_hash_ = common::crypto::argon2id_hash(common::crypto::random_token(16));
    common::log::info("accounts.prepared");
}

// Password work waits for a hashing thread only while the queue is short: in a storm the surplus is
// refused at once (503 BUSY) rather than queued for ever longer, and token calls keep their CPU.
net::awaitable<std::string> account_service::hash_password(std::string password)
{
    auto hash = co_await p_.hash_pool.try_run([&password] { return common::crypto::argon2id_hash(password); },
                                              p_.cfg.password_hash_queue);
    if (!hash)
        throw hashing_busy();
    co_return std::move(*hash);
}

net::awaitable<bool> account_service::verify_password(std::string hash, std::string password)
{
    auto ok = co_await p_.hash_pool.try_run([&] { return common::crypto::argon2id_verify(hash, password); },
                                            p_.cfg.password_hash_queue);
    if (!ok)
        throw hashing_busy();
    co_return *ok;
}

net::awaitable<void> account_service::limit(const common::ratelimit::rule& rule, const std::string& key, bool count)
{
    co_await enforce_limit(p_.limiter, rule, key, count);
}

net::awaitable<user_record> account_service::register_user(std::string email, std::string password, std::string name,
                                                    const client_info& client)
{
    email = validate_email(email);
    validate_password(password);
    name = validate_name(name);
    auto ticket = co_await enforce_limit(p_.limiter, p_.cfg.registrations_per_ip, client.ip, true);
    std::string hash;
    std::exception_ptr busy;
    try {
        hash = co_await hash_password(std::move(password));
    } catch (...) {
        busy = std::current_exception();
    }
    if (busy) {
        // Refused before anything was made (503 BUSY): the address keeps its registration.
        co_await p_.limiter.release(p_.cfg.registrations_per_ip, client.ip, ticket);
        std::rethrow_exception(busy);
    }
    bool invited = false;
    auto user = co_await p_.db.run([&](pqxx::connection& c) -> std::optional<user_record> {
        pqxx::work tx(c);
        auto u = user_store::insert(tx, email, name, hash, "active", mode_linker::lease);
        if (!u) {
            // An invited account (someone added this address to a home) does not block registration, but
            // a registration cannot take it over either: whoever owns the mailbox claims it, memberships and
            // MODE user included, by choosing the password at the link mailed now (accept-invite). The
            // password given here sets nothing, so a stranger who registers the address gains nothing.
            auto found = user_store::find_by_email(tx, email);
            if (!found || found->first.status != "invited" || !found->second.empty())
                return std::nullopt;
            auto token = tokens::issue(tx, found->first.id, token_purpose::invite, p_.cfg.invite_token_ttl);
            p_.outbox.enqueue(tx, found->first.email, "finish_registration",
                              finish_registration_mail(token_link(p_.cfg.public_url, "/accept-invite", token),
                                                       p_.cfg.invite_token_ttl));
            tx.commit();
            invited = true;
            return found->first;
        }
        queue_token_mail(tx, *u, token_purpose::verify_email);
        tx.commit();
        return u;
    });
    if (!user)
        throw problem(http::status::conflict, "EMAIL_TAKEN", "an account with this email address already exists");
    p_.mailer.notify();
    if (invited) {
        common::log::info("accounts.invited_registration", {{"user_id", user->id}});
        co_return std::move(*user); // linked when invited, or when accepted (confirm-first)
    }

    // Link inline within a short timeout; on failure the account stays and the background linker retries.
    auto link = co_await p_.linker.attempt(user->id, std::nullopt, 0, p_.cfg.mode_link_timeout);
    user->mode_user_id = link.mode_user_id;
    user->mode_linked = link.linked;
    co_return std::move(*user);
}

net::awaitable<user_record> account_service::verify_email(std::string token)
{
    auto user = co_await p_.db.run([&](pqxx::connection& c) -> std::optional<user_record> {
        pqxx::work tx(c);
        auto id = tokens::consume(tx, token, token_purpose::verify_email);
        if (!id)
            return std::nullopt;
        auto u = user_store::set_verified(tx, *id);
        tx.commit();
        return u;
    });
    if (!user)
        throw invalid_token();
    co_await p_.bus.user_changed(user->id);
    co_return std::move(*user);
}

void account_service::queue_token_mail(pqxx::transaction_base& tx, const user_record& u, token_purpose purpose) const
{
    if (purpose == token_purpose::verify_email) {
        auto token = tokens::issue(tx, u.id, purpose, p_.cfg.verify_token_ttl);
        p_.outbox.enqueue(tx, u.email, "verify_email",
                          verification_mail(u.name, token_link(p_.cfg.public_url, "/verify-email", token),
                                            p_.cfg.verify_token_ttl));
    } else {
        auto token = tokens::issue(tx, u.id, purpose, p_.cfg.reset_token_ttl);
        p_.outbox.enqueue(tx, u.email, "reset_password",
                          password_reset_mail(u.name, token_link(p_.cfg.public_url, "/reset-password", token),
                                              p_.cfg.reset_token_ttl));
    }
}

net::awaitable<void> account_service::mail_token_if(const std::string& email, token_purpose purpose,
                                                    bool (*wanted)(const user_record&))
{
    bool queued = co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto found = user_store::find_by_email(tx, email);
        if (!found || !wanted(found->first))
            return false;
        queue_token_mail(tx, found->first, purpose);
        tx.commit();
        return true;
    });
    if (queued)
        p_.mailer.notify();
}

net::awaitable<void> account_service::resend_verification(std::string email)
{
    // The same answer whether or not the address has an account; the cooldown applies to any address.
    co_await limit(p_.cfg.verification_mails_per_address, normalize_email(email), true);
    co_await mail_token_if(email, token_purpose::verify_email,
                           [](const user_record& u) { return u.status == "active" && !u.email_verified; });
}

net::awaitable<std::optional<std::pair<user_record, std::string>>>
account_service::check_password(const std::string& email, const std::string& password)
{
    auto found = co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        return user_store::find_by_email(tx, email);
    });
    // Unknown addresses and accounts without a password are checked against a dummy hash, so the answer
    // takes the same time either way.
    bool has_password = found && !found->second.empty() && password.size() <= 4096;
    bool ok = co_await verify_password(has_password ? found->second : dummy_hash_, password);
    if (!ok || !has_password)
        co_return std::nullopt;
    co_return found;
}

net::awaitable<sign_in> account_service::login(std::string email, std::string password, const client_info& client,
                                               std::optional<std::string> device_token)
{
    std::exception_ptr refused;
    try {
        co_return co_await attempt_login(std::move(email), std::move(password), client, std::move(device_token));
    } catch (const problem& e) {
        if (e.status() != http::status::too_many_requests && e.status() != http::status::service_unavailable)
            throw;
        refused = std::current_exception();
    }
    // A refused login is answered after a pause: a client that retries at once, ignoring Retry-After,
    // then sends a few requests a second per connection instead of thousands, and a flood of them leaves
    // the CPU to everyone else. Costs a timer per refused connection, no work.
    if (p_.cfg.login_refusal_delay.count() > 0) {
        net::steady_timer pause(co_await net::this_coro::executor, p_.cfg.login_refusal_delay);
        co_await pause.async_wait(net::as_tuple(net::use_awaitable));
    }
    std::rethrow_exception(refused);
}

net::awaitable<sign_in> account_service::attempt_login(std::string email, std::string password,
                                                       const client_info& client,
                                                       std::optional<std::string> device_token)
{
    // A full hashing queue refuses before anything is counted or looked up: cheap to say no to.
    if (p_.hash_pool.waiting() >= p_.cfg.password_hash_queue)
        throw hashing_busy();
    // Counted before the password is checked (login_guard), settled by the outcome.
    auto attempt = co_await p_.guard.admit(normalize_email(email), client.ip, std::move(device_token));
    std::optional<std::pair<user_record, std::string>> found;
    std::exception_ptr failure;
    try {
        found = co_await check_password(email, password);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        // Busy or a store down: nothing was judged, so nothing stays counted.
        co_await p_.guard.abandoned(attempt);
        std::rethrow_exception(failure);
    }
    if (!found)
        throw invalid_credentials(); // stays counted against the address and the account or device
    co_await p_.guard.succeeded(attempt);
    auto& user = found->first;
    if (!user.email_verified)
        throw problem(http::status::forbidden, "EMAIL_NOT_VERIFIED", "confirm the email address first");

    auto session = co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto s = p_.sessions.create(tx, user.id, client.user_agent, client.ip);
        tx.commit();
        return s;
    });
    if (common::crypto::argon2id_needs_rehash(found->second)) {
        try {
            co_await p_.users.rehash(user.id, co_await hash_password(std::move(password)));
        } catch (const std::exception& e) {
            common::log::warn("accounts.rehash", {{"user_id", user.id}, {"error", e.what()}});
        }
    }
    co_return sign_in{std::move(session), std::move(user), p_.guard.device_token(attempt)};
}

net::awaitable<void> account_service::logout(const std::string& user_id, const std::string& session_id)
{
    co_await p_.sessions.revoke(user_id, session_id);
    co_await p_.bus.session_revoked(session_id);
}

net::awaitable<void> account_service::forgot_password(std::string email)
{
    co_await limit(p_.cfg.reset_mails_per_address, normalize_email(email), true);
    co_await mail_token_if(email, token_purpose::reset_password,
                           [](const user_record& u) { return u.status == "active"; });
}

net::awaitable<void> account_service::reset_password(std::string token, std::string password)
{
    validate_password(password);
    // Check the token before spending a hash on it; it is used (once) in the transaction below.
    auto owner = co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        return tokens::peek(tx, token, token_purpose::reset_password);
    });
    if (!owner)
        throw invalid_token();
    auto hash = co_await hash_password(std::move(password));
    auto user_id = co_await p_.db.run([&](pqxx::connection& c) -> std::optional<std::string> {
        pqxx::work tx(c);
        auto id = tokens::consume(tx, token, token_purpose::reset_password);
        if (!id || !user_store::set_password(tx, *id, hash))
            return std::nullopt;
        // Any other reset link mailed earlier dies with this one: it could undo the new password.
        tokens::void_all(tx, *id, token_purpose::reset_password);
        p_.sessions.revoke_all(tx, *id);
        tx.commit();
        return id;
    });
    if (!user_id)
        throw invalid_token();
    co_await p_.bus.user_changed(*user_id);
    // The reset proves the owner: lift a lock strangers' guesses put on the account.
    auto account = co_await p_.users.find(*user_id);
    if (account)
        co_await p_.guard.lift(normalize_email(account->email));
}

net::awaitable<sign_in> account_service::accept_invite(std::string token, std::string password,
                                                std::optional<std::string> name, const client_info& client)
{
    validate_password(password);
    std::string clean_name = name ? validate_name(*name) : std::string();
    auto owner = co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        return tokens::peek(tx, token, token_purpose::invite);
    });
    if (!owner)
        throw invalid_token();
    auto hash = co_await hash_password(std::move(password));
    auto result = co_await p_.db.run([&](pqxx::connection& c) -> std::optional<sign_in> {
        pqxx::work tx(c);
        auto id = tokens::consume(tx, token, token_purpose::invite);
        if (!id)
            return std::nullopt;
        auto user = user_store::accept_invite(tx, *id, hash, clean_name);
        if (!user)
            return std::nullopt;
        auto session = p_.sessions.create(tx, user->id, client.user_agent, client.ip);
        tx.commit();
        return sign_in{std::move(session), std::move(*user), {}};
    });
    if (!result)
        throw invalid_token();
    co_await p_.bus.user_changed(result->user.id);
    co_return std::move(*result);
}

net::awaitable<std::vector<session_summary>> account_service::list_sessions(std::string user_id)
{
    co_return co_await p_.sessions.list(std::move(user_id));
}

net::awaitable<void> account_service::revoke_session(std::string user_id, std::string session_id)
{
    bool revoked = co_await p_.sessions.revoke(user_id, session_id);
    if (!revoked)
        throw common::web::not_found("no session with this id");
    co_await p_.bus.session_revoked(session_id);
}

} // namespace gateway
