#include "signature.hpp"

#include "common/crypto/crypto.hpp"

#include <string>

namespace ingest {

bool signature_valid(std::string_view configured_url, std::string_view raw_body, std::string_view signature,
                     const std::vector<std::string>& keys)
{
    // 64 hex digits; accept upper case too, and compare the bytes so case does not matter.
    if (signature.size() != 64)
        return false;
    auto given = common::crypto::hex_decode(signature);
    if (!given)
        return false;
    std::string message;
    message.reserve(configured_url.size() + raw_body.size());
    message.append(configured_url);
    message.append(raw_body);
    bool ok = false;
    // Every key is tried, so the time does not say which one matched.
    for (const auto& key : keys)
        ok |= common::crypto::constant_time_equal(common::crypto::hmac_sha256(key, message), *given);
    return ok;
}

} // namespace ingest
