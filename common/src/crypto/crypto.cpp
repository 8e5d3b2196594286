#include "common/crypto/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace common::crypto {

namespace {

// ---- small helpers ---------------------------------------------------------------------------

// OpenSSL and libsodium take unsigned bytes, and some of them (nonnull attributes, NULL-key
// quirks) must never see the null data() of an empty string_view.
const unsigned char* bytes_of(std::string_view s) noexcept
{
    static constexpr unsigned char empty[1] = {0};
    return s.empty() ? empty : reinterpret_cast<const unsigned char*>(s.data());
}

const char* chars_of(std::string_view s) noexcept
{
    return s.empty() ? "" : s.data();
}

unsigned char* bytes_of(std::string& s) noexcept
{
    return reinterpret_cast<unsigned char*>(s.data());
}

[[noreturn]] void fail(const char* what)
{
    // Leave the thread's OpenSSL error queue clean for whoever uses OpenSSL next on this thread.
    ERR_clear_error();
    throw std::runtime_error(std::string("crypto: ") + what + " failed");
}

// EVP lengths are int; anything this big is a caller bug, not data we expect.
int to_int(std::size_t n)
{
    if (n > static_cast<std::size_t>(INT_MAX)) {
        throw std::length_error("crypto: input too large");
    }
    return static_cast<int>(n);
}

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

const EVP_CIPHER* aes_256_gcm()
{
    static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher != nullptr ? cipher : EVP_aes_256_gcm();
}

// ---- OpenSSL cipher context --------------------------------------------------------------------

struct cipher_ctx_deleter
{
    void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_deleter>;

cipher_ctx make_cipher_ctx()
{
    cipher_ctx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        fail("EVP_CIPHER_CTX_new");
    }
    return ctx;
}

// ---- Argon2id ----------------------------------------------------------------------------------

using phc_buffer = std::array<char, crypto_pwhash_argon2id_STRBYTES>;

// libsodium reads the hash as a NUL-terminated string from a STRBYTES buffer: copy it into one so
// an over-long input or an embedded NUL can never be misread.
bool to_phc_buffer(std::string_view phc, phc_buffer& buf) noexcept
{
    constexpr std::string_view prefix = crypto_pwhash_argon2id_STRPREFIX;
    if (phc.size() >= buf.size() || phc.substr(0, prefix.size()) != prefix ||
        phc.find('\0') != std::string_view::npos) {
        return false;
    }
    buf.fill('\0');
    std::copy(phc.begin(), phc.end(), buf.begin());
    return true;
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

// ---- AES-256-GCM -------------------------------------------------------------------------------

aes256gcm::aes256gcm(std::string_view key32)
{
    if (key32.size() != key_size) {
        throw std::invalid_argument("aes256gcm: key must be 32 bytes");
    }
    std::copy(key32.begin(), key32.end(), reinterpret_cast<char*>(key_.data()));
}

aes256gcm::~aes256gcm()
{
    OPENSSL_cleanse(key_.data(), key_.size());
}

std::string aes256gcm::seal(std::string_view plaintext, std::string_view aad) const
{
    return seal_with_nonce(random_bytes(nonce_size), plaintext, aad);
}

std::string aes256gcm::seal_with_nonce(
    std::string_view nonce12, std::string_view plaintext, std::string_view aad
) const
{
    if (nonce12.size() != nonce_size) {
        throw std::invalid_argument("aes256gcm: nonce must be 12 bytes");
    }
    std::string out(overhead + plaintext.size(), '\0');
    std::copy(nonce12.begin(), nonce12.end(), out.begin());
    unsigned char* const ct = bytes_of(out) + nonce_size;
    unsigned char* const tag = ct + plaintext.size();

    // 12 bytes is GCM's default IV length, so key and nonce go in with the cipher in one call.
    const cipher_ctx ctx = make_cipher_ctx();
    if (EVP_EncryptInit_ex(ctx.get(), aes_256_gcm(), nullptr, key_.data(), bytes_of(nonce12)) != 1) {
        fail("AES-GCM init");
    }
    int len = 0;
    if (!aad.empty() &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad), to_int(aad.size())) != 1) {
        fail("AES-GCM aad");
    }
    int written = 0;
    if (!plaintext.empty()) {
        if (EVP_EncryptUpdate(ctx.get(), ct, &len, bytes_of(plaintext), to_int(plaintext.size())) != 1) {
            fail("AES-GCM encrypt");
        }
        written = len;
    }
    if (EVP_EncryptFinal_ex(ctx.get(), ct + written, &len) != 1) {
        fail("AES-GCM final");
    }
    written += len;
    // GCM is a stream mode: anything but an exact fit means OpenSSL misbehaved.
    if (static_cast<std::size_t>(written) != plaintext.size()) {
        fail("AES-GCM length");
    }
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size), tag) != 1) {
        fail("AES-GCM tag");
    }
    return out;
}

std::optional<std::string> aes256gcm::open(std::string_view sealed, std::string_view aad) const
{
    if (sealed.size() < overhead) {
        return std::nullopt;
    }
    const std::string_view nonce = sealed.substr(0, nonce_size);
    const std::string_view ciphertext = sealed.substr(nonce_size, sealed.size() - overhead);
    // SET_TAG takes a non-const pointer, so give it a copy rather than cast away const.
    std::array<unsigned char, tag_size> tag{};
    const std::string_view tag_in = sealed.substr(sealed.size() - tag_size);
    std::copy(tag_in.begin(), tag_in.end(), reinterpret_cast<char*>(tag.data()));

    std::string plain(ciphertext.size(), '\0');
    const cipher_ctx ctx = make_cipher_ctx();
    if (EVP_DecryptInit_ex(ctx.get(), aes_256_gcm(), nullptr, key_.data(), bytes_of(nonce)) != 1) {
        fail("AES-GCM init");
    }
    int len = 0;
    if (!aad.empty() &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad), to_int(aad.size())) != 1) {
        fail("AES-GCM aad");
    }
    int written = 0;
    if (!ciphertext.empty()) {
        if (EVP_DecryptUpdate(
                ctx.get(), bytes_of(plain), &len, bytes_of(ciphertext), to_int(ciphertext.size())
            ) != 1) {
            fail("AES-GCM decrypt");
        }
        written = len;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size), tag.data()) !=
        1) {
        fail("AES-GCM tag");
    }
    // Final is where the tag is checked; on failure the decrypted bytes are unauthenticated and
    // must not leave this function (nor linger in freed memory).
    if (EVP_DecryptFinal_ex(ctx.get(), bytes_of(plain) + written, &len) != 1 ||
        static_cast<std::size_t>(written + len) != plain.size()) {
        OPENSSL_cleanse(plain.data(), plain.size());
        ERR_clear_error();
        return std::nullopt;
    }
    return plain;
}

// ---- Argon2id ----------------------------------------------------------------------------------

std::string argon2id_hash(std::string_view password, const argon2_params& p)
{
    init();
    if (p.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
        p.opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
        p.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
        p.memlimit > crypto_pwhash_argon2id_memlimit_max()) {
        throw std::invalid_argument("argon2id: parameters outside libsodium's limits");
    }
    if (password.size() > crypto_pwhash_argon2id_PASSWD_MAX) {
        throw std::invalid_argument("argon2id: password too long");
    }
    phc_buffer out{};
    if (crypto_pwhash_str_alg(
            out.data(),
            chars_of(password),
            password.size(),
            p.opslimit,
            p.memlimit,
            crypto_pwhash_ALG_ARGON2ID13
        ) != 0) {
        throw std::runtime_error("argon2id: hashing failed (out of memory?)");
    }
    return std::string(out.data());
}

bool argon2id_verify(std::string_view phc, std::string_view password) noexcept
{
    try {
        init();
    } catch (...) {
        return false;
    }
    phc_buffer buf{};
    if (!to_phc_buffer(phc, buf)) {
        return false;
    }
    return crypto_pwhash_argon2id_str_verify(buf.data(), chars_of(password), password.size()) == 0;
}

bool argon2id_needs_rehash(std::string_view phc, const argon2_params& p) noexcept
{
    phc_buffer buf{};
    if (!to_phc_buffer(phc, buf)) {
        return true;
    }
    // 0: made with exactly these parameters; 1: different ones; -1: not a parsable argon2id hash.
    return crypto_pwhash_argon2id_str_needs_rehash(buf.data(), p.opslimit, p.memlimit) != 0;
}

} // namespace common::crypto
