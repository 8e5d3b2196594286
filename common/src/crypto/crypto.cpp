#include "common/crypto/crypto.hpp"

#include "openssl_bytes.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>

// init and randomness, SHA-256 and HMAC, constant-time comparison, hex and base64. AES-256-GCM is in
// aes256gcm.cpp, Argon2id in argon2id.cpp.

namespace common::crypto {

using namespace detail;

namespace {

// ---- base64 ----------------------------------------------------------------------------------

constexpr std::string_view b64_std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view b64_url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

using reverse_table = std::array<std::int8_t, 256>;

constexpr reverse_table make_reverse(std::string_view alphabet)
{
    reverse_table table{};
    table.fill(-1);
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return table;
}

constexpr reverse_table b64_std_rev = make_reverse(b64_std);
constexpr reverse_table b64_url_rev = make_reverse(b64_url);

std::uint32_t octet(char c) noexcept
{
    return static_cast<unsigned char>(c);
}

std::string b64_encode(std::string_view in, std::string_view alphabet, bool pad)
{
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = octet(in[i]) << 16 | octet(in[i + 1]) << 8 | octet(in[i + 2]);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    const std::size_t rest = in.size() - i;
    if (rest == 1) {
        const std::uint32_t v = octet(in[i]) << 16;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        if (pad) {
            out += "==";
        }
    } else if (rest == 2) {
        const std::uint32_t v = octet(in[i]) << 16 | octet(in[i + 1]) << 8;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        if (pad) {
            out += '=';
        }
    }
    return out;
}

std::optional<std::string> b64_decode(std::string_view in, const reverse_table& table, bool padded)
{
    if (padded) {
        if (in.size() % 4 != 0) {
            return std::nullopt;
        }
        // At most two '='; any other '=' is not in the alphabet and fails below.
        for (int k = 0; k < 2 && !in.empty() && in.back() == '='; ++k) {
            in.remove_suffix(1);
        }
    }
    // A single leftover character carries only 6 bits: never a valid encoding.
    if (in.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(in.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    std::size_t bits = 0;
    for (const char c : in) {
        const std::int8_t v = table[static_cast<unsigned char>(c)];
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6 | static_cast<std::uint32_t>(v)) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(acc >> bits & 0xFF);
        }
    }
    // Strict: the bits left over from the last character must be zero (canonical encoding).
    if ((acc & ((1U << bits) - 1U)) != 0) {
        return std::nullopt;
    }
    return out;
}

// ---- OpenSSL algorithms, fetched once -----------------------------------------------------------

// EVP_sha256() and EVP_aes_256_gcm() make OpenSSL 3 look the implementation up again on every use
// (a locked property query: a SHA-256 of a session token costs 2.7 times as much); fetched once
// instead, for the life of the process. Thread-safe (static initialisation).
const EVP_MD* sha256_md()
{
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md != nullptr ? md : EVP_sha256();
}

std::atomic<bool> sodium_ready{false};
std::mutex sodium_init_mutex;

} // namespace

// ---- init / random -----------------------------------------------------------------------------

void init()
{
    if (sodium_ready.load(std::memory_order_acquire)) {
        return;
    }
    // A mutex rather than std::call_once: call_once with a throwing callable is unreliable in
    // libstdc++ (GCC bug 66146), and a failed sodium_init must stay retryable.
    const std::lock_guard lock(sodium_init_mutex);
    if (sodium_ready.load(std::memory_order_relaxed)) {
        return;
    }
    if (sodium_init() < 0) {
        throw std::runtime_error("crypto: sodium_init failed");
    }
    sodium_ready.store(true, std::memory_order_release);
}

std::string random_bytes(std::size_t n)
{
    init();
    std::string out(n, '\0');
    randombytes_buf(out.data(), n);
    return out;
}

std::string random_token(std::size_t bytes)
{
    return base64url_encode(random_bytes(bytes));
}

// ---- hashing -----------------------------------------------------------------------------------

std::string sha256(std::string_view data)
{
    std::string out(32, '\0');
    unsigned int len = 0;
    if (EVP_Digest(bytes_of(data), data.size(), bytes_of(out), &len, sha256_md(), nullptr) != 1 ||
        len != out.size()) {
        fail("SHA-256");
    }
    return out;
}

std::string sha256_hex(std::string_view data)
{
    return hex_encode(sha256(data));
}

std::string hmac_sha256(std::string_view key, std::string_view message)
{
    std::string out(32, '\0');
    unsigned int len = 0;
    // bytes_of() never yields NULL, so an empty key reaches OpenSSL as a real zero-length key
    // rather than as "no key" (a distinction OpenSSL's MAC layer draws).
    if (HMAC(
            sha256_md(),
            bytes_of(key),
            to_int(key.size()),
            bytes_of(message),
            message.size(),
            bytes_of(out),
            &len
        ) == nullptr ||
        len != out.size()) {
        fail("HMAC-SHA256");
    }
    return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message)
{
    return hex_encode(hmac_sha256(key, message));
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) {
        return false;
    }
    if (a.empty()) {
        return true;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---- codecs ------------------------------------------------------------------------------------

std::string hex_encode(std::string_view bytes)
{
    constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const std::uint32_t v = octet(c);
        out += digits[v >> 4];
        out += digits[v & 0xF];
    }
    return out;
}

std::optional<std::string> hex_decode(std::string_view hex)
{
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = nibble(hex[i]);
        const int lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi << 4 | lo);
    }
    return out;
}

std::string base64_encode(std::string_view bytes)
{
    return b64_encode(bytes, b64_std, true);
}

std::optional<std::string> base64_decode(std::string_view text)
{
    return b64_decode(text, b64_std_rev, true);
}

std::string base64url_encode(std::string_view bytes)
{
    return b64_encode(bytes, b64_url, false);
}

std::optional<std::string> base64url_decode(std::string_view text)
{
    return b64_decode(text, b64_url_rev, false);
}

} // namespace common::crypto
