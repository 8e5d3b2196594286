#pragma once

// MODE's webhook as the tests send it: an event body signed the way the Webhooks Smart Module signs it
// (X-Mode-Signature: hex HMAC-SHA256 over the configured webhook URL followed by the body).

#include "support/http_call.hpp"
#include "support/services.hpp"

#include <chrono>
#include <string>

namespace test {

/** The MB_WEBHOOK_URL and MB_WEBHOOK_KEY start_ingest gives webhook-ingest unless the test overrides them. */
inline const std::string webhook_url = "https://hooks.example.test/v1/mode/events";
inline const std::string webhook_key = "test-webhook-key";

/** The X-Mode-Signature header MODE would send with `body`, signed with `key` for `url`. */
header_list webhook_signature(const std::string& body, const std::string& key = webhook_key,
                              const std::string& url = webhook_url);

/** POST /v1/mode/events to `ingest` with `body` signed as above, plus `extra` headers. */
http_result post_signed_event(const running_service& ingest, const std::string& body,
                              const std::string& key = webhook_key, const std::string& url = webhook_url,
                              header_list extra = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));

} // namespace test
