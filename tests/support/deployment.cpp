#include "support/deployment.hpp"

namespace test {

deployment::deployment(deployment_options o)
    : options(std::move(o))
    , secret_key(random_secret_key())
    , sim(start_mode_sim(options.sim_env))
{
    for (std::size_t i = 0; i < options.ingests; ++i)
        ingests.push_back(start_ingest(db.url(), options.ingest_env, options.wait_ready));
    for (std::size_t i = 0; i < options.gateways; ++i)
        add_gateway({}, options.wait_ready);
}

running_service& deployment::add_gateway(std::map<std::string, std::string> extra, bool wait_ready)
{
    std::map<std::string, std::string> env{{"MB_SECRET_KEY", secret_key}};
    for (const auto& [k, v] : options.gateway_env)
        env[k] = v;
    for (auto& [k, v] : extra)
        env[k] = std::move(v);
    gateways.push_back(start_gateway(db.url(), sim.base_url(), std::move(env), wait_ready));
    return gateways.back();
}

} // namespace test
