#pragma once

// What the crypto sources share (private to common_crypto): handing bytes to OpenSSL and libsodium,
// and failing the way every crypto call fails. Free functions of no state: safe on any thread.

#include <openssl/err.h>

#include <climits>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace common::crypto::detail {

// OpenSSL and libsodium take unsigned bytes, and some of them (nonnull attributes, NULL-key
// quirks) must never see the null data() of an empty string_view.
inline const unsigned char* bytes_of(std::string_view s) noexcept
{
    static constexpr unsigned char empty[1] = {0};
    return s.empty() ? empty : reinterpret_cast<const unsigned char*>(s.data());
}

inline const char* chars_of(std::string_view s) noexcept
{
    return s.empty() ? "" : s.data();
}

inline unsigned char* bytes_of(std::string& s) noexcept
{
    return reinterpret_cast<unsigned char*>(s.data());
}

[[noreturn]] inline void fail(const char* what)
{
    // Leave the thread's OpenSSL error queue clean for whoever uses OpenSSL next on this thread.
    ERR_clear_error();
    throw std::runtime_error(std::string("crypto: ") + what + " failed");
}

// EVP lengths are int; anything this big is a caller bug, not data we expect.
inline int to_int(std::size_t n)
{
    if (n > static_cast<std::size_t>(INT_MAX)) {
        throw std::length_error("crypto: input too large");
    }
    return static_cast<int>(n);
}

} // namespace common::crypto::detail
