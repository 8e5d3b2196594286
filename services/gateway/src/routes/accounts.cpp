#include "routes/accounts.hpp"

#include "mode_linker.hpp"
#include "session_auth.hpp"
#include "settings.hpp"
#include "user_store.hpp"
#include "validation.hpp"

#include "common/crypto/crypto.hpp"
#include "common/util/blocking_pool.hpp"
#include "common/web/json_body.hpp"

namespace gateway {

using common::web::request;
using common::web::request_context;
using common::web::response;

namespace {

net::awaitable<response> register_user(services& svc, request& req)
{
    auto body = common::web::parse_json_object(req);
    auto email = validate_email(common::web::require_string(body, "email"));
    std::string password(common::web::require_string(body, "password"));
    validate_password(password);
    auto name = validate_name(common::web::require_string(body, "name"));

    // Argon2id is deliberately slow: it runs on its own bounded pool, never on an I/O thread.
    auto hash = co_await svc.hash_pool.run([&password] { return common::crypto::argon2id_hash(password); });
    auto user = co_await svc.users.create(email, name, std::move(hash), mode_linker::lease);

    // Link inline within a short timeout; on failure the account is still created and the
    // background linker retries.
    auto link = co_await svc.linker.attempt(user.id, std::nullopt, 0, svc.cfg.mode_link_timeout);
    user.mode_user_id = link.mode_user_id;
    user.mode_linked = link.linked;

    auto res = common::web::json_response(req, http::status::created, json::object{{"user", to_json(user)}});
    co_return res;
}

} // namespace

void add_account_routes(common::web::router& r, services& svc)
{
    r.add(http::verb::post, "/v1/auth/register",
          [&svc](request& req, request_context&) { return register_user(svc, req); });

    r.add(http::verb::get, "/v1/me", [&svc](request& req, request_context&) -> net::awaitable<response> {
        auto user = co_await svc.auth.authenticate(req);
        co_return common::web::json_response(req, http::status::ok, json::object{{"user", to_json(user)}});
    });
}

} // namespace gateway
