#pragma once

// What MB_SECRET_KEY becomes: one key per use, derived with HKDF-SHA256 (RFC 5869), and the sealed-text
// format the gateway stores (MODE user keys, queued mails), which still opens what earlier versions wrote.

#include "common/crypto/crypto.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace common::crypto {

/** HKDF-SHA256 (RFC 5869): `length` bytes (at most 8160) from `ikm`, `salt` (may be empty) and `info`. */
std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info, std::size_t length);

/** The keys of a deployment secret, each for one use only. */
struct derived_keys
{
    std::string encryption; ///< 32 bytes: AES-256-GCM of stored secrets (info "modebridge mode-key encryption v2")
    std::string mac;        ///< 32 bytes: HMAC keys and keyed hashes (info "modebridge hmac v1")
};

/** Derives the keys of `secret` (the 32 raw bytes of MB_SECRET_KEY). */
derived_keys derive_keys(std::string_view secret);

/**
 * Secrets at rest, as text. `seal` writes "v3:" + key id + ":" + base64(AES-256-GCM under the derived
 * encryption key of the current secret); the key id (8 hex digits, derived from the secret by HKDF, says
 * nothing of the key) names the secret a value was sealed under, so that after a rotation the values
 * still sealed under a previous secret can be found and sealed anew. `open` reads that format under the
 * current or any previous secret, and the formats earlier versions wrote: "v2:" + base64 (the derived key,
 * no key id) and v1 (plain base64 of AES-256-GCM under the secret itself). ':' is not a base64 character,
 * so the formats never collide. The AAD binds a value to its row (the user id, the recipient).
 * Thread-safety: const methods, safe to share.
 */
class sealed_text
{
public:
    /** `secret`: the 32 raw bytes of MB_SECRET_KEY; `previous`: earlier secrets still to be read
        (MB_SECRET_KEY_PREVIOUS). Throws std::invalid_argument when one is not 32 bytes. */
    explicit sealed_text(std::string_view secret, const std::vector<std::string>& previous = {});

    std::string seal(std::string_view plaintext, std::string_view aad) const;
    /** The plaintext, or nullopt when `text` is in no known format or opens under none of the secrets. */
    std::optional<std::string> open(std::string_view text, std::string_view aad) const;
    /** What every value sealed now starts with ("v3:<key id>:"); a value without it is worth sealing anew. */
    const std::string& current_prefix() const noexcept { return keys_.front().prefix; }
    /** True when `text` was sealed under the current secret in the current format. */
    bool is_current(std::string_view text) const noexcept { return text.starts_with(current_prefix()); }

private:
    struct secret_keys
    {
        std::string prefix; // "v3:<key id>:"
        aes256gcm derived;  // v3 and v2
        aes256gcm legacy;   // v1: the secret itself
    };
    std::vector<secret_keys> keys_; // the current secret first
};

} // namespace common::crypto
