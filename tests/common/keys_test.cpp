// The keys derived from MB_SECRET_KEY and the sealed-text format (common/crypto/keys.hpp).
#include "common/crypto/keys.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

BOOST_AUTO_TEST_SUITE(crypto)

// RFC 5869, test cases 1 and 3 (SHA-256).
BOOST_AUTO_TEST_CASE(hkdf_sha256_matches_rfc5869)
{
    namespace c = common::crypto;
    auto okm = c::hkdf_sha256(std::string(22, '\x0b'), *c::hex_decode("000102030405060708090a0b0c"),
                              *c::hex_decode("f0f1f2f3f4f5f6f7f8f9"), 42);
    BOOST_TEST(c::hex_encode(okm) ==
               "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    okm = c::hkdf_sha256(std::string(22, '\x0b'), "", "", 42);
    BOOST_TEST(c::hex_encode(okm) ==
               "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

// Each use gets its own key; sealed text opens in both formats, and only with its own AAD.
BOOST_AUTO_TEST_CASE(sealed_text_opens_current_and_v1_values)
{
    namespace c = common::crypto;
    auto secret = c::random_bytes(32);
    auto keys = c::derive_keys(secret);
    BOOST_TEST(keys.encryption.size() == 32U);
    BOOST_TEST(keys.mac.size() == 32U);
    BOOST_TEST(keys.encryption != keys.mac);
    BOOST_TEST(keys.encryption != secret);
    c::sealed_text box(secret);
    auto sealed = box.seal("mode key", "user-1");
    BOOST_TEST(c::sealed_text::is_current(sealed));
    BOOST_TEST(box.open(sealed, "user-1").value_or("") == "mode key");
    BOOST_TEST(!box.open(sealed, "user-2").has_value());
    // Under the derived key, not the secret itself.
    auto raw = c::base64_decode(sealed.substr(3));
    BOOST_TEST(c::aes256gcm(keys.encryption).open(*raw, "user-1").value_or("") == "mode key");
    BOOST_TEST(!c::aes256gcm(secret).open(*raw, "user-1").has_value());
    auto v1 = c::base64_encode(c::aes256gcm(secret).seal("old key", "user-1"));
    BOOST_TEST(!c::sealed_text::is_current(v1));
    BOOST_TEST(box.open(v1, "user-1").value_or("") == "old key");
    BOOST_TEST(!c::sealed_text(c::random_bytes(32)).open(v1, "user-1").has_value());
    BOOST_TEST(!box.open("v2:not base64!", "user-1").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
