#include "support/tls_cert.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <system_error>
#include <unistd.h>

namespace test {

namespace {

template <class T, void (*Free)(T*)>
struct openssl_deleter
{
    void operator()(T* p) const { Free(p); }
};
template <class T, void (*Free)(T*)>
using openssl_ptr = std::unique_ptr<T, openssl_deleter<T, Free>>;

using pkey_ptr = openssl_ptr<EVP_PKEY, EVP_PKEY_free>;
using x509_ptr = openssl_ptr<X509, X509_free>;
using bio_ptr = openssl_ptr<BIO, BIO_free_all>;
using ext_ptr = openssl_ptr<X509_EXTENSION, X509_EXTENSION_free>;

/** Everything written to the memory BIO so far, which it then forgets. */
std::string drain(BIO* bio)
{
    std::string out(BIO_ctrl_pending(bio), '\0');
    const int n = BIO_read(bio, out.data(), static_cast<int>(out.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0U);
    return out;
}

void write_file(const std::filesystem::path& path, const std::string& text)
{
    std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "w"), &std::fclose);
    BOOST_REQUIRE_MESSAGE(f, "cannot create " << path);
    BOOST_REQUIRE(std::fwrite(text.data(), 1, text.size(), f.get()) == text.size());
}

} // namespace

self_signed_cert make_self_signed_cert(const std::string& common_name, const std::string& san)
{
    pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    BOOST_REQUIRE(key);
    x509_ptr x(X509_new());
    BOOST_REQUIRE(x);
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 24 * 3600);
    X509_set_pubkey(x.get(), key.get());
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
    X509_set_issuer_name(x.get(), name);
    X509V3_CTX v3{};
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x.get(), x.get(), nullptr, nullptr, 0);
    ext_ptr ext(X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str()));
    BOOST_REQUIRE_MESSAGE(ext, "subjectAltName " << san);
    X509_add_ext(x.get(), ext.get(), -1);
    BOOST_REQUIRE(X509_sign(x.get(), key.get(), EVP_sha256()) > 0);

    self_signed_cert out;
    bio_ptr bio(BIO_new(BIO_s_mem()));
    BOOST_REQUIRE(bio);
    BOOST_REQUIRE(PEM_write_bio_X509(bio.get(), x.get()) == 1);
    out.cert_pem = drain(bio.get());
    BOOST_REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
    out.key_pem = drain(bio.get());
    BOOST_REQUIRE(!out.cert_pem.empty() && !out.key_pem.empty());
    return out;
}

const self_signed_cert& localhost_cert()
{
    static const self_signed_cert c = make_self_signed_cert("localhost", "DNS:localhost,IP:127.0.0.1");
    return c;
}

pem_files::pem_files(const self_signed_cert& c)
{
    // Unique per object as well as per process: test cases may hold several at once.
    static std::atomic<unsigned> serial{0};
    auto base = std::filesystem::temp_directory_path() /
                ("mb_test_tls_" + std::to_string(::getpid()) + "_" + std::to_string(serial++));
    cert_ = base.string() + "_cert.pem";
    key_ = base.string() + "_key.pem";
    write_file(cert_, c.cert_pem);
    write_file(key_, c.key_pem);
}

pem_files::~pem_files()
{
    std::error_code ignored;
    std::filesystem::remove(cert_, ignored);
    std::filesystem::remove(key_, ignored);
}

std::shared_ptr<ssl::context> server_tls_context(const self_signed_cert& c)
{
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->use_certificate_chain(net::buffer(c.cert_pem));
    ctx->use_private_key(net::buffer(c.key_pem), ssl::context::pem);
    return ctx;
}

std::shared_ptr<ssl::context> client_tls_context_trusting(const self_signed_cert& c)
{
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->add_certificate_authority(net::buffer(c.cert_pem));
    return ctx;
}

} // namespace test
