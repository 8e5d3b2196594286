#include "session_auth.hpp"

#include "common/crypto/crypto.hpp"
#include "common/web/problem.hpp"

#include <boost/beast/core/string.hpp>

namespace gateway {

std::string session_auth::bearer_token(const common::web::request& req)
{
    auto h = req[http::field::authorization];
    std::string_view v(h.data(), h.size());
    constexpr std::string_view scheme = "bearer ";
    if (v.size() <= scheme.size() || !boost::beast::iequals(v.substr(0, scheme.size()), scheme))
        return {};
    v.remove_prefix(scheme.size());
    while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ')
        v.remove_suffix(1);
    return std::string(v);
}

net::awaitable<user_record> session_auth::authenticate(const common::web::request& req)
{
    auto token = bearer_token(req);
    // Our tokens are 43 characters; anything far off that is not one of ours.
    if (token.empty() || token.size() > 256)
        throw common::web::unauthenticated();
    auto user = co_await users_.session_user(common::crypto::sha256_hex(token), idle_timeout_);
    if (!user)
        throw common::web::unauthenticated();
    co_return std::move(*user);
}

} // namespace gateway
