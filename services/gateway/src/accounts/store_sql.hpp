#pragma once

// SQL pieces shared by the gateway's stores (private to them).

#include "accounts/user_store.hpp"

#include <pqxx/row>

// An RFC 3339 UTC timestamp with milliseconds, as the API shows times.
#define MB_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// The columns of user_record, in order (table alias u), for every statement that returns a user.
#define MB_USER_COLUMNS                                                                                         \
    "u.id::text, u.email, u.name, u.status, u.email_verified_at IS NOT NULL, " MB_TS("u.created_at")            \
    ", u.mode_user_id, u.mode_linked_at IS NOT NULL"

namespace gateway {

/** How many columns MB_USER_COLUMNS has. */
constexpr int user_column_count = 8;

/** Reads MB_USER_COLUMNS starting at column `offset`. */
user_record read_user(const pqxx::row& r, int offset = 0);

} // namespace gateway
