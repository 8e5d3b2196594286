#pragma once

#include "sessions/session_auth.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace common::mode {
class client;
}
namespace common::web {
class problem;
}

namespace gateway {

struct settings;
class mode_linker;
class session_bus;
class link_store;

/**
 * MODE calls on a signed-in user's behalf, with that user's own MODE key: MODE enforces what the user
 * may do. The key is opened (decrypted) for the call only. A user whose link is still pending gets 503
 * `MODE_LINK_PENDING`; a key MODE no longer accepts is dropped and re-issued by the linker. MODE's
 * failures become the contract's problems (`to_problem`, mode_problems.hpp). Runs on the caller's
 * executor (the HTTP client's I/O there too). Thread-safety: shared.
 */
class mode_access
{
public:
    mode_access(common::mode::client& mode, mode_linker& linker, link_store& links, session_bus& bus)
        : mode_(mode)
        , linker_(linker)
        , links_(links)
        , bus_(bus)
    {
    }

    /** The caller's MODE user id; 503 MODE_LINK_PENDING while the account is not linked. */
    std::int64_t mode_user_id(const caller& c) const;

    net::awaitable<json::value> call(const caller& c, http::verb method, std::string path,
                                     const json::value* body = nullptr);

    /** Like `call`, the answer's body unparsed, to pass on as it is. */
    net::awaitable<std::string> call_raw(const caller& c, http::verb method, std::string path);

    /** Every item of a paged MODE list (`GET path`, every page), with the caller's key. */
    net::awaitable<json::array> list_all(const caller& c, std::string path);

    common::mode::client& client() noexcept { return mode_; }

private:
    std::string open_key(const caller& c) const;
    /** The caller's key was refused by MODE: drop it for the linker to renew, and say so. */
    net::awaitable<void> renew_key(const caller& c);

    common::mode::client& mode_;
    mode_linker& linker_;
    link_store& links_;
    session_bus& bus_;
};

/** 503 MODE_LINK_PENDING with Retry-After: the account's MODE link is not ready yet. */
common::web::problem link_pending(std::string detail = "this account's link to MODE is not ready yet; try again shortly");

} // namespace gateway
