// webhook-ingest's checks of a delivery, in the handler's order (webhook_handler.cpp): the signature
// over the configured URL and the raw body first, then, only when it holds, the event's parsing.
//
// Input: the X-Mode-Signature header on the first line, the body after it. A first line of `*` stands for
// the signature MODE would send with this body (so that mutations of a body reach the parser).
#include "webhook-ingest/src/event.hpp"
#include "webhook-ingest/src/signature.hpp"

#include "common/crypto/crypto.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {
const std::string url = "https://hooks.example.test/v1/mode/events";
const std::vector<std::string> keys{"test-webhook-key", "previous-webhook-key"};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nl = input.find('\n');
    std::string_view header = nl == std::string_view::npos ? input : input.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    std::string signature(header);
    if (header == "*")
        signature = common::crypto::hmac_sha256_hex(keys[size % 2], url + std::string(body));

    if (!ingest::signature_valid(url, body, signature, keys))
        return 0;
    std::string why;
    auto event = ingest::parse_event(body, why);
    if (!event) {
        if (why.empty())
            std::abort(); // a refusal always says why (the 400's detail)
        return 0;
    }
    // What is stored: the body's digest, a type within bounds, and a payload that is JSON again.
    if (event->body_hash.size() != 64 || event->event_type.empty() || event->event_type.size() > 256)
        std::abort();
    std::string again;
    if (!ingest::parse_event(event->payload, again))
        std::abort(); // the stored payload is an event in its own right
    return 0;
}
