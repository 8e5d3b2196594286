#include "common/crypto/crypto.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstddef>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

// Not `crypto`: BOOST_AUTO_TEST_SUITE(crypto) opens a namespace of that name.
namespace mcrypto = common::crypto;

namespace {

// Hex literal to bytes; the vectors below are all well-formed, so a failure here is a test bug.
std::string unhex(std::string_view hex)
{
    auto bytes = mcrypto::hex_decode(hex);
    BOOST_REQUIRE(bytes.has_value());
    return *bytes;
}

std::string repeat(char c, std::size_t n)
{
    return std::string(n, c);
}

std::string flip_bit(std::string s, std::size_t i)
{
    s[i] = static_cast<char>(s[i] ^ 0x01);
    return s;
}

struct gcm_vector
{
    const char* name;
    const char* key;
    const char* nonce;
    const char* plaintext;
    const char* aad;
    const char* ciphertext;
    const char* tag;
};

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13, 14 and 16
// (256-bit key); 16 has AAD and a plaintext that is not a multiple of the block size.
const gcm_vector gcm_vectors[] = {
    {"test case 13",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000",
     "",
     "",
     "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000",
     "00000000000000000000000000000000",
     "",
     "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 16",
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

// Small, fast Argon2id parameters for tests that only need "different from the defaults".
const mcrypto::argon2_params small_params{1, 8 * 1024 * 1024};

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

BOOST_AUTO_TEST_CASE(aes256gcm_known_answers)
{
    for (const auto& v : gcm_vectors) {
        BOOST_TEST_CONTEXT(v.name)
        {
            const mcrypto::aes256gcm aead(unhex(v.key));
            const std::string nonce = unhex(v.nonce);
            const std::string plaintext = unhex(v.plaintext);
            const std::string aad = unhex(v.aad);
            const std::string expected = nonce + unhex(v.ciphertext) + unhex(v.tag);

            const std::string sealed = aead.seal_with_nonce(nonce, plaintext, aad);
            BOOST_TEST(mcrypto::hex_encode(sealed) == mcrypto::hex_encode(expected));
            BOOST_TEST(aead.open(expected, aad).value_or("?") == plaintext);
        }
    }
}

BOOST_AUTO_TEST_CASE(aes256gcm_round_trip)
{
    const mcrypto::aes256gcm aead(mcrypto::random_bytes(32));
    for (const std::string_view aad : {std::string_view{}, std::string_view{"user:42"}}) {
        for (const std::string& plaintext :
             {std::string{}, std::string("mode-user-key"), mcrypto::random_bytes(1000)}) {
            BOOST_TEST_CONTEXT("aad \"" << aad << "\", plaintext " << plaintext.size() << " bytes")
            {
                const std::string sealed = aead.seal(plaintext, aad);
                BOOST_TEST(sealed.size() == plaintext.size() + mcrypto::aes256gcm::overhead);
                const auto opened = aead.open(sealed, aad);
                BOOST_REQUIRE(opened.has_value());
                BOOST_TEST(*opened == plaintext);
            }
        }
    }
    // A copy holds the same key.
    const mcrypto::aes256gcm copy = aead;
    BOOST_TEST(copy.open(aead.seal("secret")).value_or("") == "secret");
}

BOOST_AUTO_TEST_CASE(aes256gcm_open_rejects_tampering)
{
    const std::string key = mcrypto::random_bytes(32);
    const mcrypto::aes256gcm aead(key);
    const std::string plaintext = "mode user key 0123456789";
    const std::string aad = "user:42";
    const std::string sealed = aead.seal(plaintext, aad);
    BOOST_REQUIRE(aead.open(sealed, aad).has_value());

    // Any altered byte (nonce, ciphertext or tag) fails authentication.
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        BOOST_TEST_CONTEXT("flipped byte " << i)
        {
            BOOST_TEST(!aead.open(flip_bit(sealed, i), aad).has_value());
        }
    }
    // Wrong, missing or unexpected AAD.
    BOOST_TEST(!aead.open(sealed, "user:43").has_value());
    BOOST_TEST(!aead.open(sealed).has_value());
    BOOST_TEST(!aead.open(aead.seal(plaintext), aad).has_value());
    // Another key.
    std::string other_key = key;
    other_key[0] = static_cast<char>(other_key[0] ^ 0x80);
    BOOST_TEST(!mcrypto::aes256gcm(other_key).open(sealed, aad).has_value());
    // Truncated at every length, and extended.
    for (std::size_t n = 0; n < sealed.size(); ++n) {
        BOOST_TEST_CONTEXT("truncated to " << n)
        {
            BOOST_TEST(!aead.open(sealed.substr(0, n), aad).has_value());
        }
    }
    BOOST_TEST(!aead.open(sealed + '\0', aad).has_value());
}

BOOST_AUTO_TEST_CASE(aes256gcm_nonce_is_random)
{
    const mcrypto::aes256gcm aead(mcrypto::random_bytes(32));
    const std::string a = aead.seal("same plaintext");
    const std::string b = aead.seal("same plaintext");
    BOOST_TEST(a != b);
    BOOST_TEST(a.substr(0, 12) != b.substr(0, 12));
    BOOST_TEST(aead.open(a).value_or("") == "same plaintext");
    BOOST_TEST(aead.open(b).value_or("") == "same plaintext");
}

BOOST_AUTO_TEST_CASE(aes256gcm_rejects_bad_key_and_nonce_sizes)
{
    BOOST_CHECK_THROW(mcrypto::aes256gcm(std::string(31, 'k')), std::invalid_argument);
    BOOST_CHECK_THROW(mcrypto::aes256gcm(std::string(33, 'k')), std::invalid_argument);
    BOOST_CHECK_THROW(mcrypto::aes256gcm(std::string_view{}), std::invalid_argument);
    BOOST_CHECK_NO_THROW(mcrypto::aes256gcm(std::string(32, 'k')));

    const mcrypto::aes256gcm aead(std::string(32, 'k'));
    BOOST_CHECK_THROW(aead.seal_with_nonce(std::string(11, 'n'), "x", {}), std::invalid_argument);
    BOOST_CHECK_THROW(aead.seal_with_nonce(std::string(13, 'n'), "x", {}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(aes256gcm_shared_across_threads)
{
    // One object used from several threads at once; Boost.Test assertions are not thread-safe,
    // so the workers only count failures.
    const mcrypto::aes256gcm aead(mcrypto::random_bytes(32));
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&aead, &failures, t] {
            for (int i = 0; i < 200; ++i) {
                const std::string plaintext = "thread " + std::to_string(t) + " #" + std::to_string(i);
                if (aead.open(aead.seal(plaintext, "aad"), "aad") != plaintext) {
                    ++failures;
                }
            }
        });
    }
    for (auto& w : workers) {
        w.join();
    }
    BOOST_TEST(failures.load() == 0);
}

BOOST_AUTO_TEST_CASE(argon2id_hash_and_verify)
{
    const std::string phc = mcrypto::argon2id_hash("correct horse battery staple");
    BOOST_TEST(phc.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0U, "hash: " << phc);
    BOOST_TEST(mcrypto::argon2id_verify(phc, "correct horse battery staple"));
    BOOST_TEST(!mcrypto::argon2id_verify(phc, "correct horse battery stapl"));
    BOOST_TEST(!mcrypto::argon2id_verify(phc, "Correct horse battery staple"));
    BOOST_TEST(!mcrypto::argon2id_verify(phc, ""));

    // Salted: the same password hashes differently, and both verify.
    const std::string again = mcrypto::argon2id_hash("correct horse battery staple");
    BOOST_TEST(again != phc);
    BOOST_TEST(mcrypto::argon2id_verify(again, "correct horse battery staple"));

    // Passwords are bytes: empty and NUL-containing passwords work too.
    const std::string with_nul("pa\0ss", 5);
    const std::string phc_nul = mcrypto::argon2id_hash(with_nul, small_params);
    BOOST_TEST(mcrypto::argon2id_verify(phc_nul, with_nul));
    BOOST_TEST(!mcrypto::argon2id_verify(phc_nul, "pa"));
    BOOST_TEST(mcrypto::argon2id_verify(mcrypto::argon2id_hash("", small_params), ""));
}

BOOST_AUTO_TEST_CASE(argon2id_verify_rejects_malformed_hashes)
{
    const std::string phc = mcrypto::argon2id_hash("pw", small_params);
    BOOST_REQUIRE(mcrypto::argon2id_verify(phc, "pw"));

    std::string altered = phc;
    altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
    std::string argon2i = phc;
    argon2i.erase(8, 1); // "$argon2id$" -> "$argon2i$"

    const std::string bad[] = {
        "",
        "garbage",
        "$argon2id$",
        phc.substr(0, phc.size() - 1),
        altered,
        argon2i,
        phc + '\0' + "trailing",
        phc + std::string(200, 'A'),
        "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", // bcrypt
    };
    for (const auto& s : bad) {
        BOOST_TEST_CONTEXT("hash \"" << s << "\"")
        {
            BOOST_TEST(!mcrypto::argon2id_verify(s, "pw"));
        }
    }
}

BOOST_AUTO_TEST_CASE(argon2id_needs_rehash_cases)
{
    const std::string current = mcrypto::argon2id_hash("pw");
    BOOST_TEST(!mcrypto::argon2id_needs_rehash(current));

    const std::string weak = mcrypto::argon2id_hash("pw", small_params);
    BOOST_TEST(weak.rfind("$argon2id$v=19$m=8192,t=1,p=1$", 0) == 0U, "hash: " << weak);
    BOOST_TEST(mcrypto::argon2id_needs_rehash(weak));
    BOOST_TEST(!mcrypto::argon2id_needs_rehash(weak, small_params));
    // Either parameter alone differing is enough.
    BOOST_TEST(mcrypto::argon2id_needs_rehash(current, {3, 19 * 1024 * 1024}));
    BOOST_TEST(mcrypto::argon2id_needs_rehash(current, {2, 32 * 1024 * 1024}));

    BOOST_TEST(mcrypto::argon2id_needs_rehash("not a hash"));
    BOOST_TEST(mcrypto::argon2id_needs_rehash(""));
}

BOOST_AUTO_TEST_CASE(argon2id_rejects_out_of_range_params)
{
    BOOST_CHECK_THROW(mcrypto::argon2id_hash("pw", {0, 19 * 1024 * 1024}), std::invalid_argument);
    BOOST_CHECK_THROW(mcrypto::argon2id_hash("pw", {2, 1024}), std::invalid_argument);
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
