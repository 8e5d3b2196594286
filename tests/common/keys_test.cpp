// The keys derived from MB_SECRET_KEY and the sealed-text format (common/crypto/keys.hpp).
#include "common/crypto/keys.hpp"

#include <boost/test/unit_test.hpp>

#include <stdexcept>
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
    BOOST_TEST(box.is_current(sealed));
    BOOST_TEST(sealed.starts_with(box.current_prefix()));
    BOOST_TEST(box.current_prefix().size() == 12U); // "v3:" + 8 hex digits + ":"
    BOOST_TEST(box.open(sealed, "user-1").value_or("") == "mode key");
    BOOST_TEST(!box.open(sealed, "user-2").has_value());
    // Under the derived key, not the secret itself.
    auto raw = c::base64_decode(sealed.substr(box.current_prefix().size()));
    BOOST_TEST(c::aes256gcm(keys.encryption).open(*raw, "user-1").value_or("") == "mode key");
    BOOST_TEST(!c::aes256gcm(secret).open(*raw, "user-1").has_value());
    auto v1 = c::base64_encode(c::aes256gcm(secret).seal("old key", "user-1"));
    BOOST_TEST(!box.is_current(v1));
    BOOST_TEST(box.open(v1, "user-1").value_or("") == "old key");
    BOOST_TEST(!c::sealed_text(c::random_bytes(32)).open(v1, "user-1").has_value());
    BOOST_TEST(!box.open("v2:not base64!", "user-1").has_value());
    BOOST_TEST(!box.open(box.current_prefix() + "not base64!", "user-1").has_value());
    // v2, as the version before key ids wrote it: the derived key, no key id.
    auto v2 = "v2:" + c::base64_encode(c::aes256gcm(keys.encryption).seal("v2 key", "user-1"));
    BOOST_TEST(!box.is_current(v2));
    BOOST_TEST(box.open(v2, "user-1").value_or("") == "v2 key");
}

// After a rotation the current secret seals; the previous ones still open what they sealed, in every
// format, and the key id tells which values still need sealing anew. Without the previous secret, nothing
// sealed under it opens.
BOOST_AUTO_TEST_CASE(sealed_text_opens_values_of_previous_secrets_and_tells_them_apart)
{
    namespace c = common::crypto;
    auto old_secret = c::random_bytes(32);
    auto new_secret = c::random_bytes(32);
    c::sealed_text before(old_secret);
    c::sealed_text rotated(new_secret, {c::random_bytes(32), old_secret});
    c::sealed_text after(new_secret);
    BOOST_TEST(before.current_prefix() != rotated.current_prefix());
    BOOST_TEST(rotated.current_prefix() == after.current_prefix());
    BOOST_TEST(before.current_prefix() == c::sealed_text(old_secret).current_prefix()); // stable per secret

    auto v3 = before.seal("mode key", "user-1");
    auto v2 = "v2:" + c::base64_encode(c::aes256gcm(c::derive_keys(old_secret).encryption).seal("v2 key", "user-1"));
    auto v1 = c::base64_encode(c::aes256gcm(old_secret).seal("v1 key", "user-1"));
    BOOST_TEST(!rotated.is_current(v3));
    BOOST_TEST(rotated.open(v3, "user-1").value_or("") == "mode key");
    BOOST_TEST(rotated.open(v2, "user-1").value_or("") == "v2 key");
    BOOST_TEST(rotated.open(v1, "user-1").value_or("") == "v1 key");
    BOOST_TEST(!rotated.open(v3, "user-2").has_value());
    BOOST_TEST(!after.open(v3, "user-1").has_value());
    BOOST_TEST(!after.open(v2, "user-1").has_value());
    BOOST_TEST(!after.open(v1, "user-1").has_value());

    auto resealed = rotated.seal(*rotated.open(v3, "user-1"), "user-1");
    BOOST_TEST(rotated.is_current(resealed));
    BOOST_TEST(after.open(resealed, "user-1").value_or("") == "mode key");
    BOOST_TEST(!before.open(resealed, "user-1").has_value());
    // A value under one secret's key id does not open under another's key.
    auto forged = rotated.current_prefix() + v3.substr(before.current_prefix().size());
    BOOST_TEST(!rotated.open(forged, "user-1").has_value());
    BOOST_CHECK_THROW(c::sealed_text(new_secret, {"short"}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
