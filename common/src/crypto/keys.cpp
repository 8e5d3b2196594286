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

sealed_text::sealed_text(std::string_view secret, const std::vector<std::string>& previous)
{
    auto add = [this](std::string_view key) {
        if (key.size() != 32)
            throw std::invalid_argument("sealed_text: a secret must be 32 bytes");
        keys_.push_back({"v3:" + hex_encode(hkdf_sha256(key, {}, "modebridge key id v1", 4)) + ":",
                         aes256gcm(derive_keys(key).encryption), aes256gcm(key)});
    };
    add(secret);
    for (const auto& p : previous)
        add(p);
}

std::string sealed_text::seal(std::string_view plaintext, std::string_view aad) const
{
    return current_prefix() + base64_encode(keys_.front().derived.seal(plaintext, aad));
}

std::optional<std::string> sealed_text::open(std::string_view text, std::string_view aad) const
{
    constexpr std::string_view v2 = "v2:";
    if (text.starts_with("v3:")) {
        for (const auto& k : keys_)
            if (text.starts_with(k.prefix))
                if (auto raw = base64_decode(text.substr(k.prefix.size())))
                    if (auto plain = k.derived.open(*raw, aad))
                        return plain;
        return std::nullopt;
    }
    const bool derived = text.starts_with(v2);
    auto raw = base64_decode(derived ? text.substr(v2.size()) : text);
    if (!raw)
        return std::nullopt;
    for (const auto& k : keys_)
        if (auto plain = derived ? k.derived.open(*raw, aad) : k.legacy.open(*raw, aad))
            return plain;
    return std::nullopt;
}

} // namespace common::crypto
