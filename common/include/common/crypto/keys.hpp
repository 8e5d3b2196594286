#pragma once

// What MB_SECRET_KEY becomes: one key per use, derived with HKDF-SHA256 (RFC 5869), and the sealed-text
// format the gateway stores (MODE user keys, queued mails), which still opens what earlier versions wrote.

#include "common/crypto/crypto.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

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
 * Secrets at rest, as text. `seal` writes "v2:" + base64(AES-256-GCM under the derived encryption key);
 * `open` reads that and the v1 format (plain base64 of AES-256-GCM under the secret itself) that versions
 * before the key derivation wrote, so stored values stay readable across the upgrade. ':' is not a base64
 * character, so the two formats never collide. The AAD binds a value to its row (the user id, the
 * recipient). Thread-safety: const methods, safe to share.
 */
class sealed_text
{
public:
    static constexpr std::string_view current_prefix = "v2:";

    /** `secret`: the 32 raw bytes of MB_SECRET_KEY. Throws std::invalid_argument otherwise. */
    explicit sealed_text(std::string_view secret);

    std::string seal(std::string_view plaintext, std::string_view aad) const;
    /** The plaintext, or nullopt when `text` is neither format or does not open under this secret. */
    std::optional<std::string> open(std::string_view text, std::string_view aad) const;
    /** True when `text` is in the current format (false: a v1 value worth sealing anew). */
    static bool is_current(std::string_view text) noexcept;

private:
    aes256gcm current_;
    aes256gcm legacy_;
};

} // namespace common::crypto
