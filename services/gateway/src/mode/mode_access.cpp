#include "mode/mode_access.hpp"

#include "mode/link_store.hpp"
#include "mode/mode_linker.hpp"
#include "mode/mode_problems.hpp"
#include "sessions/session_bus.hpp"

#include "common/log.hpp"

namespace gateway {

namespace web = common::web;
using common::mode::failure;

// Declared in mode/mode_problems.hpp (unit-tested on its own); defined here, with its one main user.
web::problem to_problem(const common::mode::error& e)
{
    switch (e.kind()) {
    case failure::rejected: {
        if (e.status() == 401)
            return web::problem(http::status::bad_gateway, "MODE_UNAVAILABLE",
                                "MODE refused this service's credentials");
        auto status = static_cast<http::status>(e.status());
        return web::problem(status, "MODE_" + e.reason(), "MODE refused the request: " + e.reason());
    }
    case failure::unavailable:
        if (e.status() == 0 || e.status() == 503)
            return web::service_unavailable("MODE_UNAVAILABLE", "MODE cannot be reached right now", 5);
        return web::problem(http::status::bad_gateway, "MODE_UNAVAILABLE", "MODE failed to answer the request");
    case failure::timeout:
        return web::problem(http::status::gateway_timeout, "MODE_TIMEOUT", "MODE did not answer in time");
    case failure::outcome_unknown:
        return web::problem(http::status::bad_gateway, "MODE_OUTCOME_UNKNOWN",
                            "the connection to MODE broke after the request was sent: it may have been carried out; "
                            "check before repeating it");
    case failure::bad_answer:
        break;
    }
    return web::problem(http::status::bad_gateway, "MODE_UNAVAILABLE", "MODE gave an answer this service cannot use");
}

common::web::problem link_pending(std::string detail)
{
    return common::web::service_unavailable("MODE_LINK_PENDING", std::move(detail), 5);
}

std::int64_t mode_access::mode_user_id(const caller& c) const
{
    if (!c.user.mode_linked || !c.user.mode_user_id)
        throw link_pending();
    return *c.user.mode_user_id;
}

std::string mode_access::open_key(const caller& c) const
{
    if (!c.user.mode_linked || c.sealed_mode_key.empty())
        throw link_pending();
    auto key = linker_.open_key(c.user.id, c.sealed_mode_key);
    if (!key) {
        // Sealed under another MB_SECRET_KEY: nothing to do but say so loudly.
        common::log::error("mode.key_unreadable", {{"user_id", c.user.id}});
        throw common::web::problem(http::status::internal_server_error, "INTERNAL",
                                   "this account's MODE key cannot be read; the operator must check MB_SECRET_KEY and MB_SECRET_KEY_PREVIOUS");
    }
    return std::move(*key);
}

net::awaitable<void> mode_access::renew_key(const caller& c)
{
    common::log::warn("mode.user_key_refused", {{"user_id", c.user.id}});
    co_await links_.reset_key(c.user.id);
    co_await bus_.user_changed(c.user.id);
    throw link_pending("this account's MODE key is being renewed; try again shortly");
}

net::awaitable<json::value> mode_access::call(const caller& c, http::verb method, std::string path,
                                              const json::value* body)
{
    try {
        auto key = open_key(c);
        co_return co_await mode_.call(method, path, key, body);
    } catch (const common::mode::error& e) {
        if (e.kind() != common::mode::failure::rejected || e.status() != 401)
            throw to_problem(e);
    }
    // MODE no longer accepts this user's key (it was revoked): the linker issues a new one.
    co_await renew_key(c);
    co_return json::value();
}

net::awaitable<std::string> mode_access::call_raw(const caller& c, http::verb method, std::string path)
{
    try {
        auto key = open_key(c);
        co_return co_await mode_.call_raw(method, path, key);
    } catch (const common::mode::error& e) {
        if (e.kind() != common::mode::failure::rejected || e.status() != 401)
            throw to_problem(e);
    }
    co_await renew_key(c);
    co_return std::string();
}

net::awaitable<json::array> mode_access::list_all(const caller& c, std::string path)
{
    try {
        auto key = open_key(c);
        co_return co_await mode_.list_all(path, key);
    } catch (const common::mode::error& e) {
        if (e.kind() != common::mode::failure::rejected || e.status() != 401)
            throw to_problem(e);
    }
    co_await renew_key(c);
    co_return json::array();
}

} // namespace gateway
