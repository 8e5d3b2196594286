#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace common {

/**
 * A dependency (the database, Redis, an upstream API) cannot serve right now. Whatever the request was,
 * the server answers 503 with this `code` and a `Retry-After`, and the client may try again; nothing was
 * acknowledged. `what()` is for the logs and must not hold secrets.
 */
class unavailable_error : public std::runtime_error
{
public:
    unavailable_error(std::string code, const std::string& what, int retry_after_seconds = 2)
        : std::runtime_error(what)
        , code_(std::move(code))
        , retry_after_(retry_after_seconds)
    {
    }
    const std::string& code() const noexcept { return code_; }
    int retry_after() const noexcept { return retry_after_; }

private:
    std::string code_;
    int retry_after_;
};

} // namespace common
