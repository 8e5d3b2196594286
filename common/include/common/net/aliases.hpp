#pragma once

// Short names for the Boost namespaces used everywhere. Bring them into a namespace with
// `using namespace common::aliases;` (never `using namespace boost`).

namespace boost::asio {
}
namespace boost::asio::ip {
}
namespace boost::asio::ssl {
}
namespace boost::beast {
}
namespace boost::beast::http {
}
namespace boost::beast::websocket {
}
namespace boost::json {
}

namespace common {
namespace aliases {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
} // namespace aliases
using namespace aliases;
} // namespace common
