#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ingest {

/**
 * MODE's webhook signature: lowercase hex HMAC-SHA256, keyed with the webhook key, over the webhook URL
 * exactly as configured in MODE immediately followed by the raw body (mode-api.md). True when
 * `signature` matches under any of `keys` (several during a key rotation). Compared in constant time;
 * the body is never parsed before this passes.
 */
bool signature_valid(std::string_view configured_url, std::string_view raw_body, std::string_view signature,
                     const std::vector<std::string>& keys);

} // namespace ingest
