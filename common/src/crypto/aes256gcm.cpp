#include "common/crypto/crypto.hpp"

#include "openssl_bytes.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

// AES-256-GCM: sealing and opening text under a key.

namespace common::crypto {

using namespace detail;

namespace {

// Fetched once for the life of the process, as sha256_md() in crypto.cpp and for the same reason.
// Thread-safe (static initialisation).
const EVP_CIPHER* aes_256_gcm()
{
    static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher != nullptr ? cipher : EVP_aes_256_gcm();
}

// ---- OpenSSL cipher context --------------------------------------------------------------------

// Frees a cipher context; stateless, usable on any thread (a context is never shared between them).
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

} // namespace

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
} // namespace common::crypto
