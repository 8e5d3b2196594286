#pragma once

#include "common/net/aliases.hpp"

#include "user_store.hpp"

#include "common/web/types.hpp"

#include <chrono>
#include <string>

namespace gateway {

using namespace common::aliases;

/**
 * Turns `Authorization: Bearer <token>` into the signed-in user, or a 401 `UNAUTHENTICATED` with
 * `WWW-Authenticate: Bearer`. Tokens are looked up by their SHA-256; the token itself is never stored
 * or logged. Thread-safety: shared.
 */
class session_auth
{
public:
    session_auth(user_store& users, std::chrono::milliseconds idle_timeout)
        : users_(users)
        , idle_timeout_(idle_timeout)
    {
    }

    net::awaitable<user_record> authenticate(const common::web::request& req);

    /** The bearer token of `req`, or empty. */
    static std::string bearer_token(const common::web::request& req);

private:
    user_store& users_;
    std::chrono::milliseconds idle_timeout_;
};

} // namespace gateway
