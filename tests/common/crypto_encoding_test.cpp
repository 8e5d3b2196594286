// crypto: base64, base64url and hex, against RFC 4648 vectors and on invalid input.

#include "support/crypto_harness.hpp"

using namespace crypto_harness;

BOOST_AUTO_TEST_SUITE(crypto)

BOOST_AUTO_TEST_CASE(base64_rfc4648_vectors)
{
    struct
    {
        std::string_view in;
        std::string_view out;
    } const cases[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("input \"" << c.in << "\"")
        {
            BOOST_TEST(mcrypto::base64_encode(c.in) == c.out);
            const auto back = mcrypto::base64_decode(c.out);
            BOOST_REQUIRE(back.has_value());
            BOOST_TEST(*back == c.in);
        }
    }
}

BOOST_AUTO_TEST_CASE(base64_rejects_invalid_input)
{
    const std::string_view bad[] = {
        "Zg",        // padding missing
        "Zg=",       // length not a multiple of 4
        "Z===",      // too much padding
        "====",      // padding only
        "Zg==Zg==",  // padding in the middle
        "Zh==",      // non-zero unused bits (non-canonical)
        "Zm9=",      // non-zero unused bits (non-canonical)
        "Zm9v!mFy",  // foreign character
        " Zm9v",     // whitespace
        "Zm9v\n",    // trailing newline
        "-_-_",      // base64url alphabet
        "Zm9vYmFy=", // stray padding
    };
    for (const auto& s : bad) {
        BOOST_TEST_CONTEXT("input \"" << s << "\"")
        {
            BOOST_TEST(!mcrypto::base64_decode(s).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(base64url_uses_url_alphabet_without_padding)
{
    const std::string bytes1 = unhex("fbffbf");
    const std::string bytes2 = unhex("fafbfcfdfeff");
    // The same bytes give '+' and '/' in standard base64...
    BOOST_TEST(mcrypto::base64_encode(bytes1) == "+/+/");
    BOOST_TEST(mcrypto::base64_encode(bytes2) == "+vv8/f7/");
    // ...and '-' and '_' in base64url.
    BOOST_TEST(mcrypto::base64url_encode(bytes1) == "-_-_");
    BOOST_TEST(mcrypto::base64url_encode(bytes2) == "-vv8_f7_");
    BOOST_TEST(mcrypto::base64url_decode("-_-_").value_or("") == bytes1);
    BOOST_TEST(mcrypto::base64url_decode("-vv8_f7_").value_or("") == bytes2);
    BOOST_TEST(mcrypto::base64url_encode("f") == "Zg");
    BOOST_TEST(mcrypto::base64url_encode("fo") == "Zm8");
    BOOST_TEST(mcrypto::base64url_decode("Zg").value_or("") == "f");

    BOOST_TEST(!mcrypto::base64url_decode("+/+/").has_value()); // standard alphabet
    BOOST_TEST(!mcrypto::base64url_decode("Zg==").has_value()); // padding
    BOOST_TEST(!mcrypto::base64url_decode("Zm9vY").has_value()); // 4k+1 characters
    BOOST_TEST(!mcrypto::base64url_decode("Zh").has_value());    // non-zero unused bits
}

BOOST_AUTO_TEST_CASE(base64_round_trips_every_length)
{
    for (std::size_t n = 0; n <= 66; ++n) {
        BOOST_TEST_CONTEXT("length " << n)
        {
            const std::string bytes = mcrypto::random_bytes(n);
            BOOST_TEST(mcrypto::base64_encode(bytes).size() == (n + 2) / 3 * 4);
            BOOST_TEST(mcrypto::base64_decode(mcrypto::base64_encode(bytes)).value_or("?") == bytes);
            BOOST_TEST(
                mcrypto::base64url_decode(mcrypto::base64url_encode(bytes)).value_or("?") == bytes
            );
        }
    }
}

BOOST_AUTO_TEST_CASE(hex_round_trip_and_invalid)
{
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all += static_cast<char>(i);
    }
    const std::string hex = mcrypto::hex_encode(all);
    BOOST_TEST(hex.size() == 512U);
    BOOST_TEST(hex.substr(0, 8) == "00010203");
    BOOST_TEST(hex.substr(504) == "fcfdfeff"); // lowercase
    BOOST_TEST(mcrypto::hex_decode(hex).value_or("") == all);
    BOOST_TEST(mcrypto::hex_decode("DEADbeef").value_or("") == unhex("deadbeef"));
    BOOST_TEST(mcrypto::hex_decode("").value_or("?").empty());

    for (const std::string_view s : {"abc", "0g", "zz", " 0", "0x00", "ab\n"}) {
        BOOST_TEST_CONTEXT("input \"" << s << "\"")
        {
            BOOST_TEST(!mcrypto::hex_decode(s).has_value());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
