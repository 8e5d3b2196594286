// crypto: Argon2id password hashes: hashing, verifying, rehash decisions, parameter limits.

#include "support/crypto_harness.hpp"

using namespace crypto_harness;

namespace {

// Small, fast Argon2id parameters for tests that only need "different from the defaults".
const mcrypto::argon2_params small_params{1, 8 * 1024 * 1024};

} // namespace

BOOST_AUTO_TEST_SUITE(crypto)

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

BOOST_AUTO_TEST_SUITE_END()
