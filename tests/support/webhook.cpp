#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"

namespace test {

header_list webhook_signature(const std::string& body, const std::string& key, const std::string& url)
{
    return {{"X-Mode-Signature", common::crypto::hmac_sha256_hex(key, url + body)}};
}

http_result post_signed_event(const running_service& ingest, const std::string& body, const std::string& key,
                              const std::string& url, header_list extra, std::chrono::milliseconds timeout)
{
    auto headers = webhook_signature(body, key, url);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return http_call(ingest.port, http::verb::post, "/v1/mode/events", body, std::move(headers), timeout);
}

} // namespace test
