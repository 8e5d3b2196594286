// crypto: init, SHA-256 and HMAC-SHA256 against published vectors, constant-time comparison, random
// bytes and tokens.

#include "support/crypto_harness.hpp"

using namespace crypto_harness;

namespace {

std::string repeat(char c, std::size_t n)
{
    return std::string(n, c);
}

} // namespace

BOOST_AUTO_TEST_SUITE(crypto)

BOOST_AUTO_TEST_CASE(init_is_idempotent)
{
    BOOST_CHECK_NO_THROW(mcrypto::init());
    BOOST_CHECK_NO_THROW(mcrypto::init());
}

BOOST_AUTO_TEST_CASE(sha256_fips_180_2_vectors)
{
    struct
    {
        std::string_view in;
        std::string_view hex;
    } const cases[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("input \"" << c.in << "\"")
        {
            BOOST_TEST(mcrypto::sha256_hex(c.in) == c.hex);
            BOOST_TEST(mcrypto::sha256(c.in) == unhex(c.hex));
            BOOST_TEST(mcrypto::sha256(c.in).size() == 32U);
        }
    }
}

BOOST_AUTO_TEST_CASE(hmac_sha256_rfc4231_vectors)
{
    std::string key4;
    for (char b = 0x01; b <= 0x19; ++b) {
        key4 += b;
    }
    struct
    {
        const char* name;
        std::string key;
        std::string data;
        std::string_view hex;
    } const cases[] = {
        {"case 1",
         repeat('\x0b', 20),
         "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"case 2",
         "Jefe",
         "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"case 3",
         repeat('\xaa', 20),
         repeat('\xdd', 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"case 4",
         key4,
         repeat('\xcd', 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"case 6 (key longer than block)",
         repeat('\xaa', 131),
         "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"case 7 (key and data longer than block)",
         repeat('\xaa', 131),
         "This is a test using a larger than block-size key and a larger than block-size data. "
         "The key needs to be hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name)
        {
            BOOST_TEST(mcrypto::hmac_sha256_hex(c.key, c.data) == c.hex);
            BOOST_TEST(mcrypto::hmac_sha256(c.key, c.data) == unhex(c.hex));
        }
    }
}

BOOST_AUTO_TEST_CASE(hmac_sha256_empty_key_and_message)
{
    // An empty key must be a real zero-length key, not an error.
    BOOST_TEST(
        mcrypto::hmac_sha256_hex({}, {}) ==
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
    );
}

BOOST_AUTO_TEST_CASE(hmac_sha256_mode_webhook_vector)
{
    // MODE signs the configured webhook URL immediately followed by the raw body.
    const std::string url = "https://example.com/evt";
    const std::string body =
        R"({"homeId":173,"timestamp":"2016-01-04T23:26:09.521Z","eventType":"abc",)"
        R"("eventData":{},"originDeviceId":260})";
    BOOST_TEST(
        mcrypto::hmac_sha256_hex("testkey123", url + body) ==
        "de0f8e46c21a72fa5619b8ab30ff8754d3d20f668d9d541a1023fb82abafec97"
    );
    // One byte less of body must change the signature.
    BOOST_TEST(
        mcrypto::hmac_sha256_hex("testkey123", url + body.substr(1)) !=
        "de0f8e46c21a72fa5619b8ab30ff8754d3d20f668d9d541a1023fb82abafec97"
    );
}

BOOST_AUTO_TEST_CASE(constant_time_equal_cases)
{
    BOOST_TEST(mcrypto::constant_time_equal("signature", "signature"));
    BOOST_TEST(!mcrypto::constant_time_equal("signature", "signaturf"));
    BOOST_TEST(!mcrypto::constant_time_equal("signature", "Signature"));
    BOOST_TEST(!mcrypto::constant_time_equal("signature", "signatur"));
    BOOST_TEST(!mcrypto::constant_time_equal("signatur", "signature"));
    BOOST_TEST(!mcrypto::constant_time_equal("", "x"));
    BOOST_TEST(mcrypto::constant_time_equal("", ""));
    BOOST_TEST(mcrypto::constant_time_equal(std::string_view{}, std::string_view{}));
    // Embedded NULs are content, not terminators.
    BOOST_TEST(!mcrypto::constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

BOOST_AUTO_TEST_CASE(random_bytes_and_tokens)
{
    BOOST_TEST(mcrypto::random_bytes(0).empty());
    BOOST_TEST(mcrypto::random_bytes(17).size() == 17U);
    BOOST_TEST(mcrypto::random_token(16).size() == 22U);

    const std::string_view url_safe =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string token = mcrypto::random_token();
        BOOST_TEST_CONTEXT("token " << token)
        {
            BOOST_TEST(token.size() == 43U);
            BOOST_TEST(token.find_first_not_of(url_safe) == std::string::npos);
            BOOST_TEST(mcrypto::base64url_decode(token).value_or("").size() == 32U);
        }
        seen.insert(token);
    }
    BOOST_TEST(seen.size() == 1000U);
}

BOOST_AUTO_TEST_SUITE_END()
