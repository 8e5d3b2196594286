#pragma once

#include "sessions/session_cache.hpp"
#include "sessions/session_store.hpp"

#include "common/metrics.hpp"
#include "common/web/types.hpp"

#include <chrono>
#include <string>

namespace gateway {

/** The signed-in caller: their session and account. */
struct caller
{
    std::string session_id;
    user_record user;
    std::string sealed_mode_key; // open it only for the call that needs it
};

/**
 * Turns `Authorization: Bearer <token>` into the signed-in caller, or a 401 `UNAUTHENTICATED` with
 * `WWW-Authenticate: Bearer`. Tokens are looked up by their SHA-256 (the token itself is never stored
 * or logged), from the in-process cache when it can be trusted, else from PostgreSQL. Use of a session
 * is recorded at most once a minute, off the request's path. Runs on the request's strand (the store
 * on the database pool's workers). Thread-safety: shared.
 */
class session_auth
{
public:
    session_auth(session_store& store, session_cache& cache, common::metrics::registry& m);

    net::awaitable<caller> authenticate(const common::web::request& req);
    /** Same, from a raw token (e.g. a WebSocket's `access_token` query parameter). */
    net::awaitable<caller> authenticate_token(const std::string& token);

    /** The bearer token of `req`, or empty. */
    static std::string bearer_token(const common::web::request& req);

private:
    session_store& store_;
    session_cache& cache_;
    common::metrics::counter& hits_;
    common::metrics::counter& misses_;
    common::metrics::counter& negative_hits_;
};

} // namespace gateway
