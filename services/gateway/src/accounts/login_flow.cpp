#include "accounts/login_flow.hpp"

#include "accounts/abuse_limits.hpp"
#include "accounts/password_hasher.hpp"
#include "accounts/validation.hpp"
#include "sessions/session_bus.hpp"
#include "settings.hpp"

#include "common/crypto/crypto.hpp"
#include "common/db/pg_pool.hpp"
#include "common/log.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <pqxx/transaction>

namespace gateway {

using common::web::problem;

namespace {

problem invalid_credentials()
{
    return problem(http::status::unauthorized, "INVALID_CREDENTIALS", "the email address or the password is wrong");
}

} // namespace

net::awaitable<std::optional<std::pair<user_record, std::string>>>
login_flow::check_password(const std::string& email, const std::string& password)
{
    auto found = co_await d_.db.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        return user_store::find_by_email(tx, email);
    });
    // Unknown addresses and accounts without a password are checked against a dummy hash, so the answer
    // takes the same time either way.
    bool has_password = found && !found->second.empty() && password.size() <= 4096;
    std::string hash; // none: checked against the dummy hash
    if (has_password)
        hash = found->second;
    bool ok = co_await d_.hasher.matches(std::move(hash), password);
    if (!ok || !has_password)
        co_return std::nullopt;
    co_return found;
}

net::awaitable<sign_in> login_flow::login(std::string email, std::string password, const client_info& client,
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
    if (d_.cfg.login_refusal_delay.count() > 0) {
        net::steady_timer pause(co_await net::this_coro::executor, d_.cfg.login_refusal_delay);
        co_await pause.async_wait(net::as_tuple(net::use_awaitable));
    }
    std::rethrow_exception(refused);
}

net::awaitable<sign_in> login_flow::attempt_login(std::string email, std::string password, const client_info& client,
                                                  std::optional<std::string> device_token)
{
    // A full hashing queue refuses before anything is counted or looked up: cheap to say no to.
    if (d_.hasher.busy())
        throw hashing_busy();
    // Counted before the password is checked (login_guard), settled by the outcome.
    auto attempt = co_await d_.guard.admit(normalize_email(email), client.ip, std::move(device_token));
    std::optional<std::pair<user_record, std::string>> found;
    std::exception_ptr failure;
    try {
        found = co_await check_password(email, password);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        // Busy or a store down: nothing was judged, so nothing stays counted.
        co_await d_.guard.abandoned(attempt);
        std::rethrow_exception(failure);
    }
    if (!found)
        throw invalid_credentials(); // stays counted against the address and the account or device
    co_await d_.guard.succeeded(attempt);
    auto& user = found->first;
    if (!user.email_verified)
        throw problem(http::status::forbidden, "EMAIL_NOT_VERIFIED", "confirm the email address first");

    auto session = co_await d_.db.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto s = d_.sessions.create(tx, user.id, client.user_agent, client.ip);
        tx.commit();
        return s;
    });
    if (common::crypto::argon2id_needs_rehash(found->second)) {
        try {
            co_await d_.users.rehash(user.id, co_await d_.hasher.hash(std::move(password)));
        } catch (const std::exception& e) {
            common::log::warn("accounts.rehash", {{"user_id", user.id}, {"error", e.what()}});
        }
    }
    co_return sign_in{std::move(session), std::move(user), d_.guard.device_token(attempt)};
}

net::awaitable<void> login_flow::logout(const std::string& user_id, const std::string& session_id)
{
    co_await d_.sessions.revoke(user_id, session_id);
    co_await d_.bus.session_revoked(session_id);
}

net::awaitable<std::vector<session_summary>> login_flow::list_sessions(std::string user_id)
{
    co_return co_await d_.sessions.list(std::move(user_id));
}

net::awaitable<void> login_flow::revoke_session(std::string user_id, std::string session_id)
{
    bool revoked = co_await d_.sessions.revoke(user_id, session_id);
    if (!revoked)
        throw common::web::not_found("no session with this id");
    co_await d_.bus.session_revoked(session_id);
}

} // namespace gateway
