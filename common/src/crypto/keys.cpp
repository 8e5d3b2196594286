#include "common/crypto/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <stdexcept>

namespace common::crypto {

namespace {

struct kdf_deleter
{
    void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
    void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

void* bytes(std::string_view s)
{
    // OSSL_PARAM takes non-const pointers; HKDF only reads its inputs.
    return const_cast<char*>(s.data());
}

} // namespace

std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info, std::size_t length)
{
    if (length == 0 || length > 255 * 32)
        throw std::invalid_argument("hkdf_sha256: length must be 1 to 8160 bytes");
    std::unique_ptr<EVP_KDF, kdf_deleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    if (!kdf)
        throw std::runtime_error("hkdf_sha256: HKDF is not available");
    std::unique_ptr<EVP_KDF_CTX, kdf_deleter> ctx(EVP_KDF_CTX_new(kdf.get()));
    if (!ctx)
        throw std::runtime_error("hkdf_sha256: out of memory");
    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, bytes(ikm), ikm.size());
    if (!salt.empty())
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, bytes(salt), salt.size());
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, bytes(info), info.size());
    params[n] = OSSL_PARAM_construct_end();
    std::string out(length, '\0');
    if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) != 1)
        throw std::runtime_error("hkdf_sha256: derivation failed");
    return out;
}

derived_keys derive_keys(std::string_view secret)
{
    derived_keys k;
    k.encryption = hkdf_sha256(secret, {}, "modebridge mode-key encryption v2", 32);
    k.mac = hkdf_sha256(secret, {}, "modebridge hmac v1", 32);
    return k;
}

sealed_text::sealed_text(std::string_view secret)
    : current_(derive_keys(secret).encryption)
    , legacy_(secret)
{
}

std::string sealed_text::seal(std::string_view plaintext, std::string_view aad) const
{
    return std::string(current_prefix) + base64_encode(current_.seal(plaintext, aad));
}

std::optional<std::string> sealed_text::open(std::string_view text, std::string_view aad) const
{
    const bool current = is_current(text);
    if (current)
        text.remove_prefix(current_prefix.size());
    auto raw = base64_decode(text);
    if (!raw)
        return std::nullopt;
    return current ? current_.open(*raw, aad) : legacy_.open(*raw, aad);
}

bool sealed_text::is_current(std::string_view text) noexcept
{
    return text.starts_with(current_prefix);
}

} // namespace common::crypto
