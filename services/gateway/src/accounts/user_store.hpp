#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <pqxx/transaction_base>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common::db {
class pg_pool;
}

namespace gateway {

using namespace common::aliases;

/** An account as the API shows it (api.md's `user`). */
struct user_record
{
    std::string id;
    std::string email;
    std::string name;
    std::string status; // active | invited
    bool email_verified = false;
    std::string created_at; // RFC 3339, UTC
    std::optional<std::int64_t> mode_user_id;
    bool mode_linked = false;
};

boost::json::object to_json(const user_record& u);

/**
 * The account rows (identity, password, status); the MODE link columns are mode/link_store's. Every
 * query a prepared statement. Runs on the caller's executor; each query on the database pool's workers.
 * Thread-safety: shared, use from any coroutine.
 */
class user_store
{
public:
    explicit user_store(common::db::pg_pool& db)
        : db_(db)
    {
    }

    /** The statements to prepare on every pool connection. */
    static std::vector<std::pair<std::string, std::string>> statements();

    // Inside the caller's transaction, so an account change, its token and its mail commit together.

    /** Inserts an account (`status` active or invited; an invited one has no password yet) whose MODE
        link is leased to the caller for `link_lease` (zero: not scheduled at all, until something claims
        it); nullopt when the address is taken. */
    static std::optional<user_record> insert(pqxx::transaction_base& tx, const std::string& email,
                                             const std::string& name, const std::string& password_hash,
                                             std::string_view status, std::chrono::milliseconds link_lease);
    /** The account with this address (any case) and its password hash ("" when it has none). */
    static std::optional<std::pair<user_record, std::string>> find_by_email(pqxx::transaction_base& tx,
                                                                            const std::string& email);
    static std::optional<user_record> set_verified(pqxx::transaction_base& tx, const std::string& id);
    /** Sets a new password on an active account (which also proves the address). False if none. */
    static bool set_password(pqxx::transaction_base& tx, const std::string& id, const std::string& hash);
    /** Turns an invited account into an active one with this password (and name, when not empty). */
    static std::optional<user_record> accept_invite(pqxx::transaction_base& tx, const std::string& id,
                                                    const std::string& hash, const std::string& name);

    net::awaitable<std::optional<user_record>> find(std::string id);
    /** Replaces the password hash (parameters upgraded at login). */
    net::awaitable<void> rehash(std::string id, std::string hash);

private:
    common::db::pg_pool& db_;
};

} // namespace gateway
