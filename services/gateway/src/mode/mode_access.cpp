#include "mode/mode_access.hpp"

#include "mode/mode_linker.hpp"
#include "mode/mode_problems.hpp"
#include "sessions/session_bus.hpp"
#include "accounts/user_store.hpp"

#include "common/log.hpp"

namespace gateway {

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
                                   "this account's MODE key cannot be read; the operator must check MB_SECRET_KEY");
    }
    return std::move(*key);
}

net::awaitable<void> mode_access::renew_key(const caller& c)
{
    common::log::warn("mode.user_key_refused", {{"user_id", c.user.id}});
    co_await users_.reset_key(c.user.id);
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
