// crypto: AES-256-GCM sealing against known answers, tampering, nonces, key sizes, and threads.

#include "support/crypto_harness.hpp"

using namespace crypto_harness;

namespace {

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

} // namespace

BOOST_AUTO_TEST_SUITE(crypto)

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

BOOST_AUTO_TEST_SUITE_END()
