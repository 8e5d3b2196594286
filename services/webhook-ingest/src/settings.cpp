#include "settings.hpp"

#include <boost/url/parse.hpp>

namespace ingest {

settings load_settings(const common::config::env& e)
{
    using common::config::env;
    settings s;
    s.service = common::config::load_service_settings(e, "0.0.0.0:8081");
    s.webhook_url = e.url("MB_WEBHOOK_URL", {"http", "https"}, std::nullopt,
                          "the Event Webhook URL exactly as configured in MODE");
    auto keys = e.required_secret("MB_WEBHOOK_KEY", "the Event Webhook key(s) configured in MODE, comma-separated");
    std::size_t start = 0;
    while (start <= keys.size()) {
        auto comma = keys.find(',', start);
        auto key = keys.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        while (!key.empty() && key.front() == ' ')
            key.erase(key.begin());
        while (!key.empty() && key.back() == ' ')
            key.pop_back();
        if (!key.empty())
            s.webhook_keys.push_back(key);
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    if (s.webhook_keys.empty())
        env::fail("MB_WEBHOOK_KEY", "holds no key");
    // The path we serve defaults to the configured URL's path, so the two cannot disagree.
    auto u = boost::urls::parse_uri(s.webhook_url);
    std::string path = u ? std::string(u->encoded_path()) : std::string();
    s.webhook_path = e.get("MB_WEBHOOK_PATH", path.empty() ? std::string("/v1/mode/events") : path);
    if (s.webhook_path.empty() || s.webhook_path.front() != '/')
        env::fail("MB_WEBHOOK_PATH", "must be an absolute path such as /v1/mode/events");
    return s;
}

} // namespace ingest
