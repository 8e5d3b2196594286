#pragma once

// Crypto helpers shared by the services: hashing, HMAC (MODE webhook signatures), constant-time
// comparison, random tokens, hex/base64 codecs, AES-256-GCM (MODE user keys at rest) and Argon2id
// password hashing.
//
// Binary data travels as std::string / std::string_view holding raw bytes. Every free function is
// thread-safe (no shared mutable state beyond libsodium's one-time initialisation). OpenSSL and
// libsodium stay out of this header on purpose: only common/src/crypto/*.cpp see them.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace common::crypto {

/// Initialises libsodium once. Thread-safe and idempotent; every function below calls it lazily
/// when it needs it, so calling it at start-up only moves the cost (and a failure) earlier.
/// Throws std::runtime_error if libsodium cannot be initialised.
void init();

/// `n` bytes from the OS-seeded CSPRNG (libsodium randombytes_buf).
std::string random_bytes(std::size_t n);

/// base64url (no padding) of `bytes` random bytes: 32 bytes give 43 URL-safe characters.
/// Suitable for session ids, reset and invitation tokens.
std::string random_token(std::size_t bytes = 32);

/// SHA-256 digest: 32 raw bytes.
std::string sha256(std::string_view data);
/// SHA-256 digest as 64 lowercase hex characters.
std::string sha256_hex(std::string_view data);

/// HMAC-SHA256 of `message` keyed with the bytes of `key`: 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);
/// HMAC-SHA256 as 64 lowercase hex characters (the form of MODE's X-Mode-Signature header).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// True when `a` and `b` hold the same bytes. The time taken depends only on the lengths, never on
/// the content; inputs of different length compare unequal at once (the length may leak).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// Lowercase hex.
std::string hex_encode(std::string_view bytes);
/// Decodes hex (either case); nullopt for an odd length or any non-hex character.
std::optional<std::string> hex_decode(std::string_view hex);

/// RFC 4648 base64, standard alphabet, padded with '='.
std::string base64_encode(std::string_view bytes);
/// Strict decoder for base64_encode's output: the length must be a multiple of 4, padding must be
/// present and correct, the unused bits of the last character must be zero, and no whitespace or
/// foreign characters are allowed. nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

/// RFC 4648 §5 base64url ('-' and '_'), without padding.
std::string base64url_encode(std::string_view bytes);
/// Strict decoder for base64url_encode's output: no padding accepted, no foreign characters, an
/// impossible length (4k+1) or non-zero unused bits are rejected. nullopt otherwise.
std::optional<std::string> base64url_decode(std::string_view text);

/**
 * AES-256-GCM authenticated encryption (OpenSSL EVP), used to keep MODE user keys encrypted at rest.
 *
 * The sealed form is nonce (12 bytes) || ciphertext || tag (16 bytes); seal() draws a fresh random
 * nonce per call, so one key must not seal more than about 2^32 messages.
 *
 * Not bound to any executor: calls are short CPU work and may run on any thread.
 * Thread-safety: distinct objects: safe. Shared objects: safe for concurrent const use, since each
 * call creates its own EVP context and the key is immutable after construction.
 * The key copy is wiped when the object is destroyed.
 */
class aes256gcm
{
public:
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t nonce_size = 12;
    static constexpr std::size_t tag_size = 16;
    /// Bytes that seal() adds to the plaintext.
    static constexpr std::size_t overhead = nonce_size + tag_size;

    /// Throws std::invalid_argument unless `key32` is exactly 32 bytes.
    explicit aes256gcm(std::string_view key32);
    aes256gcm(const aes256gcm& other) = default;
    aes256gcm& operator=(const aes256gcm& other) = default;
    ~aes256gcm();

    /// Encrypts and authenticates `plaintext`, authenticating `aad` as well (aad is not stored).
    std::string seal(std::string_view plaintext, std::string_view aad = {}) const;

    /// Reverses seal(). nullopt when `sealed` is shorter than `overhead`, or when the tag does not
    /// verify (wrong key, wrong aad, any byte altered). Throws only if OpenSSL itself fails.
    std::optional<std::string> open(std::string_view sealed, std::string_view aad = {}) const;

    /// seal() with a caller-chosen nonce, for known-answer tests only: reusing a nonce under one key
    /// destroys GCM's security. Throws std::invalid_argument unless `nonce12` is 12 bytes.
    std::string seal_with_nonce(
        std::string_view nonce12, std::string_view plaintext, std::string_view aad
    ) const;

private:
    std::array<unsigned char, key_size> key_{};
};

// Argon2id password hashing (libsodium). These are deliberately slow and memory-hungry (tens of ms
// and memlimit bytes per call with the defaults) and they BLOCK: callers must run them on the worker
// pool (co_spawn onto the blocking-work thread_pool), never on an I/O thread.

/// Argon2id cost parameters. The defaults (t=2, m=19 MiB, p=1) follow the OWASP recommendation.
struct argon2_params
{
    unsigned long long opslimit = 2;
    std::size_t memlimit = 19 * 1024 * 1024;
};

/// Hashes `password` with a random salt; returns the PHC string, e.g.
/// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". Throws std::invalid_argument for parameters
/// outside libsodium's limits and std::runtime_error if hashing fails (e.g. out of memory).
std::string argon2id_hash(std::string_view password, const argon2_params& p = {});

/// True when `password` matches the Argon2id PHC string `phc`; false for a wrong password and for
/// anything that is not a well-formed Argon2id hash.
bool argon2id_verify(std::string_view phc, std::string_view password) noexcept;

/// True when `phc` was not made with exactly `p` (or is not a well-formed Argon2id hash), i.e. the
/// password should be re-hashed after the next successful verify.
bool argon2id_needs_rehash(std::string_view phc, const argon2_params& p = {}) noexcept;

} // namespace common::crypto
