// The client's error type, apart from the client itself: the MODE client and its fuzz test use it
// without the connections.

#include "common/client/http_client.hpp"

namespace common::client {

std::string_view to_string(error_kind k) noexcept
{
    switch (k) {
    case error_kind::unreachable:
        return "unreachable";
    case error_kind::timeout:
        return "timeout";
    case error_kind::bad_response:
        return "bad_response";
    }
    return "unknown";
}

error::error(error_kind k, const std::string& what, boost::system::error_code ec, bool request_sent)
    : std::runtime_error(what)
    , kind_(k)
    , code_(ec)
    , request_sent_(request_sent)
{}

} // namespace common::client
