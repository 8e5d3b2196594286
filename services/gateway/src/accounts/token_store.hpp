#pragma once

#include <pqxx/transaction_base>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gateway {

enum class token_purpose { verify_email, reset_password, invite };

std::string_view to_string(token_purpose p);

/**
 * One-time account tokens (verification, password reset, invitation): 256 random bits, handed out
 * once (for the mail) and stored only as their SHA-256. These run inside the caller's transaction so
 * a token, the change it belongs to and its mail commit together.
 */
namespace tokens {

std::vector<std::pair<std::string, std::string>> statements();

/** Issues a token for `user_id`; returns the token itself (never stored). */
std::string issue(pqxx::transaction_base& tx, const std::string& user_id, token_purpose p,
                  std::chrono::milliseconds ttl);

/** The account of a token that is unused and unexpired, without using it. */
std::optional<std::string> peek(pqxx::transaction_base& tx, std::string_view token, token_purpose p);

/** Uses the token: the account id, or nullopt when unknown, used or expired. */
std::optional<std::string> consume(pqxx::transaction_base& tx, std::string_view token, token_purpose p);

/** Voids every outstanding token of `user_id` for `p` (after one of them was used). */
void void_all(pqxx::transaction_base& tx, const std::string& user_id, token_purpose p);

} // namespace tokens

} // namespace gateway
