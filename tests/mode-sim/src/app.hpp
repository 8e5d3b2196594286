#pragma once

#include "faults.hpp"
#include "state.hpp"
#include "webhook_module.hpp"

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/net/aliases.hpp"
#include "common/web/router.hpp"
#include "common/web/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace modesim {

using namespace common::aliases;

/** The emulator's configuration (mode-api.md, "The emulator"). */
struct settings
{
    boost::asio::ip::tcp::endpoint listen;   // MODESIM_LISTEN, default 127.0.0.1:8090
    std::int64_t project_id = 1;             // MODESIM_PROJECT_ID
    std::string project_key;                 // MODESIM_PROJECT_KEY (BYOU permission), default sim-project-key
    std::string plain_project_key;           // MODESIM_PLAIN_PROJECT_KEY (no BYOU), default sim-plain-key
    std::optional<std::string> webhook_url;  // MODESIM_WEBHOOK_URL (unset: no webhook calls)
    std::optional<std::string> webhook_key;  // MODESIM_WEBHOOK_KEY (required with the URL)
    std::chrono::milliseconds webhook_timeout{5'000};     // MODESIM_WEBHOOK_TIMEOUT: per attempt
    std::chrono::milliseconds webhook_retry_min{1'000};   // MODESIM_WEBHOOK_RETRY_MIN: first backoff
    std::chrono::milliseconds webhook_retry_max{30'000};  // MODESIM_WEBHOOK_RETRY_MAX: backoff cap
    std::chrono::milliseconds webhook_give_up{600'000};   // MODESIM_WEBHOOK_GIVE_UP: no retry after this
    std::optional<std::string> state_file;   // MODESIM_STATE_FILE: kept across restarts (unset: memory only)
    std::size_t threads = 2;                 // MODESIM_THREADS
    common::log::level log_level = common::log::level::info; // MODESIM_LOG_LEVEL
};

/** Reads and validates the settings; throws common::config::error naming the variable. */
settings load_settings(const common::config::env& e);

/** The Webhooks Smart Module's options, or none when no webhook is configured. */
std::optional<webhook_options> webhook_options_from(const settings& s);

/**
 * The emulator: the MODE state, the fault table, the routes and the HTTP server on the given io_context.
 * Every answer goes through `handle`, which applies faults, renders MODE errors in one place and adds
 * MODE's CORS headers. Device events go to the Webhooks Smart Module (`on_event`), which POSTs them to the
 * configured Event Webhook on its own strands; faults never apply to those calls. Requests run on their connection's strand; the state and the fault table are
 * thread-safe, so the io_context may run on any number of threads.
 *
 * Thread-safety: construct, `start` and `shutdown` from one thread; the rest is internal. The app must
 * outlive the io_context's run.
 */
class app
{
public:
    app(net::io_context& ioc, settings s);
    app(const app&) = delete;
    app& operator=(const app&) = delete;

    /** Binds and listens; throws when it cannot. */
    void start();
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    net::awaitable<void> shutdown(std::chrono::milliseconds grace);

    const settings& config() const noexcept { return settings_; }
    state& model() noexcept { return state_; }
    fault_table& faults() noexcept { return faults_; }
    webhook_module& webhooks() noexcept { return webhooks_; }

private:
    net::awaitable<common::web::response> handle(common::web::request& req, common::web::request_context& ctx);
    net::awaitable<common::web::response> dispatch(common::web::request& req, common::web::request_context& ctx);
    void on_event(const event_record& e);
    /** Writes the state to MODESIM_STATE_FILE (a new file renamed over the old one), when it is set. */
    void save_state();

    settings settings_;
    state state_;
    fault_table faults_;
    webhook_module webhooks_;
    std::shared_ptr<common::metrics::registry> metrics_;
    common::web::router router_;
    common::web::server server_;
    std::mutex save_mutex_; // one writer of the state file at a time
};

} // namespace modesim
