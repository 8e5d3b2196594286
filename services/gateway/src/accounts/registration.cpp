#include "accounts/registration.hpp"

#include "accounts/abuse_limits.hpp"
#include "accounts/password_hasher.hpp"
#include "accounts/token_store.hpp"
#include "accounts/validation.hpp"
#include "mail/mail_outbox.hpp"
#include "mail/mail_templates.hpp"
#include "mail/mail_worker.hpp"
#include "mode/mode_linker.hpp"
#include "sessions/session_bus.hpp"
#include "settings.hpp"

#include "common/db/pg_pool.hpp"
#include "common/log.hpp"
#include "common/ratelimit/limiter.hpp"
#include "common/web/problem.hpp"

#include <pqxx/transaction>

namespace gateway {

using common::web::problem;

net::awaitable<user_record> registration::register_user(std::string email, std::string password, std::string name,
                                                        const client_info& client)
{
    email = validate_email(email);
    validate_password(password);
    name = validate_name(name);
    auto ticket = co_await enforce_limit(d_.limiter, d_.cfg.registrations_per_ip, client.ip, true);
    std::string hash;
    std::exception_ptr busy;
    try {
        hash = co_await d_.hasher.hash(std::move(password));
    } catch (...) {
        busy = std::current_exception();
    }
    if (busy) {
        // Refused before anything was made (503 BUSY): the address keeps its registration.
        co_await d_.limiter.release(d_.cfg.registrations_per_ip, client.ip, ticket);
        std::rethrow_exception(busy);
    }
    bool invited = false;
    auto user = co_await d_.db.run([&](pqxx::connection& c) -> std::optional<user_record> {
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
            auto token = tokens::issue(tx, found->first.id, token_purpose::invite, d_.cfg.invite_token_ttl);
            d_.outbox.enqueue(tx, found->first.email, "finish_registration",
                              finish_registration_mail(token_link(d_.cfg.public_url, "/accept-invite", token),
                                                       d_.cfg.invite_token_ttl));
            tx.commit();
            invited = true;
            return found->first;
        }
        d_.token_mails.queue(tx, *u, token_purpose::verify_email);
        tx.commit();
        return u;
    });
    if (!user)
        throw problem(http::status::conflict, "EMAIL_TAKEN", "an account with this email address already exists");
    d_.mailer.notify();
    if (invited) {
        common::log::info("accounts.invited_registration", {{"user_id", user->id}});
        co_return std::move(*user); // linked when invited, or when accepted (confirm-first)
    }

    // Link inline within a short timeout; on failure the account stays and the background linker retries.
    auto link = co_await d_.linker.attempt(user->id, std::nullopt, 0, d_.cfg.mode_link_timeout);
    user->mode_user_id = link.mode_user_id;
    user->mode_linked = link.linked;
    co_return std::move(*user);
}

net::awaitable<user_record> registration::verify_email(std::string token)
{
    auto user = co_await d_.db.run([&](pqxx::connection& c) -> std::optional<user_record> {
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
    co_await d_.bus.user_changed(user->id);
    co_return std::move(*user);
}

net::awaitable<void> registration::resend_verification(std::string email)
{
    // The same answer whether or not the address has an account; the cooldown applies to any address.
    co_await enforce_limit(d_.limiter, d_.cfg.verification_mails_per_address, normalize_email(email), true);
    co_await d_.token_mails.mail_if(email, token_purpose::verify_email,
                                    [](const user_record& u) { return u.status == "active" && !u.email_verified; });
}

net::awaitable<sign_in> registration::accept_invite(std::string token, std::string password,
                                                    std::optional<std::string> name, const client_info& client)
{
    validate_password(password);
    std::string clean_name = name ? validate_name(*name) : std::string();
    auto owner = co_await d_.db.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        return tokens::peek(tx, token, token_purpose::invite);
    });
    if (!owner)
        throw invalid_token();
    auto hash = co_await d_.hasher.hash(std::move(password));
    auto result = co_await d_.db.run([&](pqxx::connection& c) -> std::optional<sign_in> {
        pqxx::work tx(c);
        auto id = tokens::consume(tx, token, token_purpose::invite);
        if (!id)
            return std::nullopt;
        auto user = user_store::accept_invite(tx, *id, hash, clean_name);
        if (!user)
            return std::nullopt;
        auto session = d_.sessions.create(tx, user->id, client.user_agent, client.ip);
        tx.commit();
        return sign_in{std::move(session), std::move(*user), {}};
    });
    if (!result)
        throw invalid_token();
    co_await d_.bus.user_changed(result->user.id);
    co_return std::move(*result);
}

} // namespace gateway
