#pragma once

// The bytes of each request mb-load sends.

#include "options.hpp"

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench::load {

/**
 * Builds the HTTP/1.1 requests of a run from the options. When nothing varies the request is
 * serialized once; with --unique-body-field each request gets the next counter value in its body,
 * and with --sign-mode-webhook an X-Mode-Signature over (sign URL + that body).
 *
 * Not tied to an executor. Thread-safety: shared objects: safe for next() (the counter is atomic,
 * everything else is immutable after construction); each caller passes its own scratch string.
 */
class request_factory
{
public:
    /// Throws usage_error when --unique-body-field is given and the body is not a JSON object.
    explicit request_factory(const options& o);

    /// The next request, complete. Points into `scratch` or into the factory; valid until the next
    /// call with the same scratch.
    std::string_view next(std::string& scratch);

    /// True when requests differ from one another (a counter or a signature per request).
    bool varies() const noexcept { return varies_; }

private:
    void split_body(const options& o);
    void append_tail(std::string& out, std::string_view body) const;

    std::string head_;    // request line and fixed headers, without the final CRLF
    std::string fixed_;   // the whole request, when nothing varies
    std::string body_;    // the fixed body
    std::string prefix_;  // with a counter: body text before the counter value
    std::string suffix_;  // ... and after it
    bool quoted_ = false; // the counter replaces a string, so it is written as one
    bool with_counter_ = false;
    bool varies_ = false;
    bool send_length_ = false;
    std::string sign_key_;
    std::string sign_url_;
    std::atomic<std::uint64_t> counter_;
};

} // namespace bench::load
