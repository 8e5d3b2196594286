#pragma once

// What the crypto test files share: the library under its test name, and hex literals as bytes.

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

namespace crypto_harness {

// Hex literal to bytes; the tests' vectors are all well-formed, so a failure here is a test bug.
inline std::string unhex(std::string_view hex)
{
    auto bytes = mcrypto::hex_decode(hex);
    BOOST_REQUIRE(bytes.has_value());
    return *bytes;
}

} // namespace crypto_harness
