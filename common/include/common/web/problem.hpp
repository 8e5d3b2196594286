#pragma once

#include "common/web/types.hpp"

#include <boost/beast/http/status.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace common::web {

/**
 * An error answer in RFC 9457 form. Thrown by handlers (and by the helpers they call); the server turns
 * it into `application/problem+json` in one place (`make_problem_response`). `code` is the stable
 * identifier clients switch on; `detail` is for humans and must never carry secrets, SQL or upstream
 * bodies.
 */
class problem : public std::runtime_error
{
public:
    problem(http::status status, std::string code, std::string detail);

    http::status status() const noexcept { return status_; }
    const std::string& code() const noexcept { return code_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }

    /** Adds a response header (Retry-After, WWW-Authenticate, Allow ...). */
    problem& with_header(std::string name, std::string value) &;
    problem&& with_header(std::string name, std::string value) &&;

private:
    http::status status_;
    std::string code_;
    std::string detail_;
    std::vector<std::pair<std::string, std::string>> headers_;
};

/** The problem+json response for `p`, answering a request of HTTP `version`. */
response make_problem_response(const problem& p, unsigned version, bool keep_alive);

// Problems every service uses.
problem bad_request(std::string code, std::string detail);
problem unauthenticated(std::string detail = "missing, unknown, expired or revoked session token");
problem not_found(std::string detail = "no such resource");
problem service_unavailable(std::string code, std::string detail, int retry_after_seconds);

} // namespace common::web
