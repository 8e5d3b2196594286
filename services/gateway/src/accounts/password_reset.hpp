#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace common::db {
class pg_pool;
}
namespace common::ratelimit {
class limiter;
}

namespace gateway {

using namespace common::aliases;

struct settings;
class login_guard;
class password_hasher;
class session_bus;
class session_store;
class token_mailer;
class user_store;

/**
 * A forgotten password (api.md): mail a reset link (the same answer whether or not the address has an
 * account), then set the new password with its token. A reset voids every other reset link, ends every
 * session of the account on every instance, and lifts a lock strangers' guesses put on it.
 * Runs on the caller's executor. Thread-safety: shared.
 */
class password_reset
{
public:
    struct deps
    {
        const settings& cfg;
        common::db::pg_pool& db;
        password_hasher& hasher;
        common::ratelimit::limiter& limiter;
        login_guard& guard;
        user_store& users;
        session_store& sessions;
        token_mailer& token_mails;
        session_bus& bus;
    };

    explicit password_reset(deps d)
        : d_(d)
    {
    }

    net::awaitable<void> forgot_password(std::string email);
    net::awaitable<void> reset_password(std::string token, std::string password);

private:
    deps d_;
};

} // namespace gateway
