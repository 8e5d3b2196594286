#include "signature.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(signature)

namespace {
const std::string url = "https://example.com/evt";
const std::string body =
    R"({"homeId":173,"timestamp":"2016-01-04T23:26:09.521Z","eventType":"abc","eventData":{},"originDeviceId":260})";
const std::string vector_signature = "de0f8e46c21a72fa5619b8ab30ff8754d3d20f668d9d541a1023fb82abafec97";
} // namespace

BOOST_AUTO_TEST_CASE(the_mode_test_vector)
{
    BOOST_TEST(ingest::signature_valid(url, body, vector_signature, {"testkey123"}));
    // Upper-case hex is the same signature.
    std::string upper = vector_signature;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    BOOST_TEST(ingest::signature_valid(url, body, upper, {"testkey123"}));
}

BOOST_AUTO_TEST_CASE(anything_else_is_refused)
{
    BOOST_TEST(!ingest::signature_valid(url, body, "", {"testkey123"}));
    BOOST_TEST(!ingest::signature_valid(url, body, vector_signature, {"otherkey"}));
    BOOST_TEST(!ingest::signature_valid(url, body + " ", vector_signature, {"testkey123"}));
    BOOST_TEST(!ingest::signature_valid("https://example.com/evt/", body, vector_signature, {"testkey123"}));
    BOOST_TEST(!ingest::signature_valid(url, body, vector_signature.substr(0, 63), {"testkey123"}));
    BOOST_TEST(!ingest::signature_valid(url, body, vector_signature.substr(0, 63) + "g", {"testkey123"}));
    BOOST_TEST(!ingest::signature_valid(url, body, vector_signature, {}));
    // The URL and body are one message with no separator: moving a byte between them changes nothing,
    // which is MODE's scheme; the configured URL is fixed, so that cannot be exploited.
    BOOST_TEST(ingest::signature_valid("https://example.com/ev", "t" + body, vector_signature, {"testkey123"}));
}

BOOST_AUTO_TEST_CASE(any_configured_key_during_a_rotation)
{
    BOOST_TEST(ingest::signature_valid(url, body, vector_signature, {"newkey", "testkey123"}));
    BOOST_TEST(ingest::signature_valid(url, body, vector_signature, {"testkey123", "newkey"}));
    auto with_new = common::crypto::hmac_sha256_hex("newkey", url + body);
    BOOST_TEST(ingest::signature_valid(url, body, with_new, {"newkey", "testkey123"}));
    BOOST_TEST(!ingest::signature_valid(url, body, with_new, {"testkey123"}));
}

BOOST_AUTO_TEST_SUITE_END()
