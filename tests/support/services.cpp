#include "support/services.hpp"

#include "support/http_call.hpp"
#include "support/stack.hpp"
#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"

#include <stdexcept>
#include <thread>

namespace test {

namespace {

running_service launch(const std::string& binary, std::map<std::string, std::string> env,
                       const std::string& listen_var)
{
    running_service s;
    // A test that must know the address beforehand (a webhook URL) passes it; otherwise a free port.
    if (auto given = env.find(listen_var); given != env.end()) {
        s.port = static_cast<unsigned short>(std::stoi(given->second.substr(given->second.rfind(':') + 1)));
    } else {
        s.port = free_port();
        env[listen_var] = "127.0.0.1:" + std::to_string(s.port);
    }
    if (env.find("MB_LOG_LEVEL") == env.end())
        env["MB_LOG_LEVEL"] = "info";
    s.env = env;
    process::options o;
    o.argv = {binary_path(binary)};
    o.env = std::move(env);
    s.proc = std::make_unique<process>(std::move(o));
    return s;
}

} // namespace

std::string random_secret_key()
{
    return common::crypto::base64_encode(common::crypto::random_bytes(32));
}

bool wait_until_ready(running_service& s, std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!s.proc->running())
            return false;
        try {
            if (http_call(s.port, http::verb::get, "/readyz", {}, {}, std::chrono::seconds(3)).status == 200)
                return true;
        } catch (const std::exception&) {
            // not listening yet
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

running_service start_mode_sim(std::map<std::string, std::string> extra)
{
    auto s = launch("tests/mode-sim/mode-sim", std::move(extra), "MODESIM_LISTEN");
    if (!wait_for_port(s.port, std::chrono::seconds(20)))
        throw std::runtime_error("mode-sim did not start:\n" + s.proc->output());
    return s;
}

running_service start_gateway(const std::string& database_url, const std::string& mode_url,
                              std::map<std::string, std::string> extra, bool wait_ready)
{
    std::map<std::string, std::string> env{
        {"MB_DATABASE_URL", database_url},
        {"MB_REDIS_URL", redis_url()},
        {"MB_SMTP_URL", smtp_url()},
        {"MB_MODE_API_URL", mode_url},
        {"MB_MODE_PROJECT_ID", "1"},
        {"MB_MODE_PROJECT_KEY", "sim-project-key"},
        {"MB_SECRET_KEY", random_secret_key()},
        {"MB_PUBLIC_URL", "http://app.example.test"},
        {"MB_MODE_LINK_RETRY_MIN", "200ms"},
        {"MB_MODE_LINK_RETRY_MAX", "1s"},
        {"MB_THREADS", "2"},
        {"MB_DB_POOL_SIZE", "4"},
        {"MB_PASSWORD_HASH_THREADS", "2"},
    };
    for (auto& [k, v] : extra)
        env[k] = v;
    auto s = launch("services/gateway/modebridge-gateway", std::move(env), "MB_LISTEN");
    if (wait_ready && !wait_until_ready(s))
        throw std::runtime_error("gateway did not become ready:\n" + s.proc->output());
    return s;
}

running_service start_ingest(const std::string& database_url, std::map<std::string, std::string> extra,
                             bool wait_ready)
{
    std::map<std::string, std::string> env{
        {"MB_DATABASE_URL", database_url},
        {"MB_REDIS_URL", redis_url()},
        {"MB_WEBHOOK_URL", webhook_url},
        {"MB_WEBHOOK_KEY", webhook_key},
        {"MB_THREADS", "2"},
    };
    for (auto& [k, v] : extra)
        env[k] = v;
    auto s = launch("services/webhook-ingest/modebridge-ingest", std::move(env), "MB_LISTEN");
    if (wait_ready && !wait_until_ready(s))
        throw std::runtime_error("webhook-ingest did not become ready:\n" + s.proc->output());
    return s;
}

} // namespace test
