#include "common/crypto/crypto.hpp"

#include "openssl_bytes.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <stdexcept>

// Argon2id password hashing (libsodium): hashing, verifying, and telling a hash made with other
// parameters.

namespace common::crypto {

using namespace detail;

namespace {

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

} // namespace

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
