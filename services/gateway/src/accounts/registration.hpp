#pragma once

#include "accounts/sign_in.hpp"

#include <optional>
#include <string>

namespace common::db {
class pg_pool;
}
namespace common::ratelimit {
class limiter;
}

namespace gateway {

struct settings;
class mail_outbox;
class mail_worker;
class mode_linker;
class password_hasher;
class session_bus;
class session_store;
class token_mailer;

/**
 * Accounts made and confirmed (api.md): register, verify the address, resend the verification, and
 * accept an invitation (an invited account gets its password and signs in). Each validates its input,
 * applies the abuse limits, hashes on the bounded pool, and commits the account change, its token and its
 * mail in one transaction; a new account is linked to MODE inline within MB_MODE_LINK_TIMEOUT.
 * Runs on the caller's executor. Thread-safety: shared.
 */
class registration
{
public:
    struct deps
    {
        const settings& cfg;
        common::db::pg_pool& db;
        password_hasher& hasher;
        common::ratelimit::limiter& limiter;
        session_store& sessions;
        token_mailer& token_mails;
        mail_outbox& outbox;
        mail_worker& mailer;
        mode_linker& linker;
        session_bus& bus;
    };

    explicit registration(deps d)
        : d_(d)
    {
    }

    net::awaitable<user_record> register_user(std::string email, std::string password, std::string name,
                                              const client_info& client);
    net::awaitable<user_record> verify_email(std::string token);
    net::awaitable<void> resend_verification(std::string email);
    net::awaitable<sign_in> accept_invite(std::string token, std::string password, std::optional<std::string> name,
                                          const client_info& client);

private:
    deps d_;
};

} // namespace gateway
