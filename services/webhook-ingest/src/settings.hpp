#pragma once

#include "common/config.hpp"

#include <string>
#include <vector>

namespace ingest {

/** Everything webhook-ingest reads from its environment, validated once at start. */
struct settings
{
    common::config::service_settings service;
    /** The Event Webhook URL exactly as configured in MODE: the signature covers it. */
    std::string webhook_url;
    /** Accepted webhook keys (MB_WEBHOOK_KEY, comma-separated, so a key can be rotated). */
    std::vector<std::string> webhook_keys;
    std::string webhook_path = "/v1/mode/events";
};

settings load_settings(const common::config::env& e);

} // namespace ingest
