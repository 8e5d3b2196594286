#pragma once

// A deployment as the integration tests run it: one scratch database, one MODE emulator, N gateways
// (instances of one deployment: they share MB_SECRET_KEY) and M webhook-ingests, all against the test
// stack's Redis and SMTP sink unless the env given says otherwise.

#include "support/services.hpp"
#include "support/stack.hpp"

#include <cstddef>
#include <deque>
#include <map>
#include <string>

namespace test {

struct deployment_options
{
    std::size_t gateways = 1;
    std::size_t ingests = 0;
    std::map<std::string, std::string> gateway_env{}; // every gateway's, over start_gateway's defaults
    std::map<std::string, std::string> ingest_env{};  // every ingest's, over start_ingest's defaults
    std::map<std::string, std::string> sim_env{};     // the emulator's
    bool wait_ready = true;                         // return once every service answers /readyz
};

class deployment
{
public:
    explicit deployment(deployment_options o = {});

    /** Gateway `i` (0 = the first). */
    running_service& gw(std::size_t i = 0) { return gateways.at(i); }
    /** Ingest `i` (0 = the first). */
    running_service& ingest(std::size_t i = 0) { return ingests.at(i); }

    /** Starts one more gateway of this deployment: its key and env, with `extra` over them. */
    running_service& add_gateway(std::map<std::string, std::string> extra = {}, bool wait_ready = true);

    deployment_options options;
    std::string secret_key; // MB_SECRET_KEY of every gateway unless gateway_env sets one
    scratch_database db;
    running_service sim;
    std::deque<running_service> gateways; // a deque, so add_gateway keeps references valid
    std::deque<running_service> ingests;
};

} // namespace test
