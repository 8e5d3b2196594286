#pragma once

// The account flows as a client performs them, for the integration tests: register, read the mail,
// verify, log in. Every call goes through the real gateway and the real SMTP sink.

#include "support/http_call.hpp"
#include "support/services.hpp"

#include <string>

namespace test {

inline const std::string good_password = "correct horse battery staple";

/** A fresh address, so tests sharing the mail sink never read each other's mail. */
std::string unique_email(const std::string& who = "user");

/** The token of the newest mail to `rcpt` whose subject contains `subject_part` (fails the test if none
    arrives within 15 s). */
std::string token_from_mail(const std::string& rcpt, const std::string& subject_part);

http_result post_json(const running_service& gw, const std::string& path, const json::object& body,
                      const std::string& bearer = {});
http_result get_with(const running_service& gw, const std::string& path, const std::string& bearer);

/** Registers (201 expected) and returns the account id. */
std::string register_account(const running_service& gw, const std::string& email,
                             const std::string& password = good_password);

/** Registers, verifies through the mailed link, and logs in: the session token. */
std::string verified_login(const running_service& gw, const std::string& email,
                           const std::string& password = good_password);

/** POST /v1/auth/login; returns the whole answer. */
http_result login(const running_service& gw, const std::string& email, const std::string& password = good_password);

/** How many mails to `rcpt` the sink holds whose subject contains `subject_part`. */
std::size_t mails_with(const std::string& rcpt, const std::string& subject_part);

/** Checks `r` is a problem+json answer with this status and `code`. */
void expect_problem(const http_result& r, unsigned status, const std::string& code);

/** Checks `r` is a rate-limit refusal: 429 `RATE_LIMITED` with a positive Retry-After. `what` names
    the attempt in a failure message. */
void expect_rate_limited(const http_result& r, const std::string& what = "");

} // namespace test
