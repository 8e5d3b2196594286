#pragma once

// Self-signed TLS material made at test time (nothing is checked in): a certificate and key in
// memory, the same as PEM files, and Asio SSL contexts that serve or trust it.

#include "common/net/aliases.hpp"

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace test {

using namespace common::aliases;

/** A self-signed X.509 certificate and its EC P-256 private key, both PEM encoded. */
struct self_signed_cert
{
    std::string cert_pem;
    std::string key_pem;
};

/**
 * Makes a new key and a certificate for `common_name` with the subjectAltName `san` (OpenSSL's
 * syntax, e.g. "DNS:localhost,IP:127.0.0.1"), valid from an hour ago for a day. Fails the test
 * (BOOST_REQUIRE) when OpenSSL refuses. Reentrant.
 */
self_signed_cert make_self_signed_cert(const std::string& common_name, const std::string& san);

/** One certificate for "localhost" and 127.0.0.1, made on first use and kept for the process. */
const self_signed_cert& localhost_cert();

/**
 * A certificate and its key written as PEM files under the temp directory (names unique to this
 * process and object), for code that loads them from files; the destructor removes them.
 * Not thread-safe.
 */
class pem_files
{
public:
    explicit pem_files(const self_signed_cert& c = localhost_cert());
    ~pem_files();
    pem_files(const pem_files&) = delete;
    pem_files& operator=(const pem_files&) = delete;

    const std::filesystem::path& cert() const { return cert_; }
    const std::filesystem::path& key() const { return key_; }

private:
    std::filesystem::path cert_;
    std::filesystem::path key_;
};

/** A TLS server context presenting `c`. */
std::shared_ptr<ssl::context> server_tls_context(const self_signed_cert& c);

/** A TLS client context that trusts `c` (and nothing else) as a certificate authority. */
std::shared_ptr<ssl::context> client_tls_context_trusting(const self_signed_cert& c);

} // namespace test
