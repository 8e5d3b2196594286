// The TLS connection: asio's ssl::stream over TCP, verifying the peer certificate chain against the
// context's trust store and the certificate's names against the URL host.

#include "client/connection.hpp"
#include "client/stream_connection.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace common::client::detail {
namespace {

/** HTTPS: one ssl::stream<tcp::socket>. The shared context outlives the stream. */
class tls_connection final : public stream_connection<ssl::stream<tcp::socket>>
{
public:
    tls_connection(net::any_io_executor strand, std::shared_ptr<ssl::context> ctx, std::string host)
        : stream_connection(std::move(strand), *ctx)
        , ctx_(std::move(ctx))
        , host_(std::move(host))
    {}

    net::awaitable<boost::system::error_code> handshake() override
    {
        if (auto ec = configure_verification())
            co_return ec;
        auto [ec] = co_await stream_.async_handshake(
            ssl::stream_base::client, net::as_tuple(net::use_awaitable)
        );
        co_return ec;
    }

    std::string certificate_problem() override
    {
        // Only meaningful after the server's certificate was seen; X509_V_OK otherwise.
        const long result = SSL_get_verify_result(stream_.native_handle());
        if (result == X509_V_OK)
            return {};
        return X509_verify_cert_error_string(result);
    }

protected:
    tcp::socket& socket() noexcept override { return stream_.next_layer(); }

private:
    boost::system::error_code configure_verification()
    {
        SSL* ssl = stream_.native_handle();
        boost::system::error_code ec;
        // Verification is forced per connection, whatever the (possibly caller-supplied) context
        // says: an https:// URL always means an authenticated server.
        stream_.set_verify_mode(ssl::verify_peer, ec);
        if (ec)
            return ec;
        const auto addr = net::ip::make_address(host_, ec);
        // OpenSSL checks the name during chain verification (the same X509_check_host /
        // X509_check_ip that ssl::host_name_verification uses), so a mismatch is reported as
        // X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH by certificate_problem().
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (!ec) {
            if (X509_VERIFY_PARAM_set1_ip_asc(param, addr.to_string().c_str()) != 1)
                return make_ssl_error();
            return {};
        }
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (X509_VERIFY_PARAM_set1_host(param, host_.c_str(), host_.size()) != 1)
            return make_ssl_error();
        // SNI carries names only (RFC 6066), never IP literals.
        // (SSL_set_tlsext_host_name is a macro with an old-style cast.)
        if (SSL_ctrl(
                ssl,
                SSL_CTRL_SET_TLSEXT_HOSTNAME,
                TLSEXT_NAMETYPE_host_name,
                const_cast<char*>(host_.c_str())
            ) != 1)
            return make_ssl_error();
        return {};
    }

    static boost::system::error_code make_ssl_error()
    {
        return {static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()};
    }

    std::shared_ptr<ssl::context> ctx_;
    std::string host_;
};

} // namespace

std::shared_ptr<connection> make_tls_connection(
    net::any_io_executor strand, std::shared_ptr<ssl::context> ctx, std::string host
)
{
    return std::make_shared<tls_connection>(std::move(strand), std::move(ctx), std::move(host));
}

} // namespace common::client::detail
