#include "app.hpp"

#include "accounts/abuse_limits.hpp"
#include "accounts/login_flow.hpp"
#include "accounts/password_hasher.hpp"
#include "accounts/password_reset.hpp"
#include "accounts/registration.hpp"
#include "accounts/routes.hpp"
#include "accounts/token_store.hpp"
#include "accounts/user_store.hpp"
#include "homes/event_history_store.hpp"
#include "homes/member_flow.hpp"
#include "homes/membership_store.hpp"
#include "homes/routes.hpp"
#include "live/home_directory.hpp"
#include "live/hub.hpp"
#include "live/notices.hpp"
#include "live/routes.hpp"
#include "mail/mail_outbox.hpp"
#include "mail/mail_worker.hpp"
#include "mode/link_store.hpp"
#include "mode/mode_access.hpp"
#include "mode/mode_linker.hpp"
#include "sessions/session_auth.hpp"
#include "sessions/session_bus.hpp"
#include "sessions/session_cache.hpp"
#include "sessions/session_store.hpp"

#include "common/client/http_client.hpp"
#include "common/crypto/crypto.hpp"
#include "common/crypto/keys.hpp"
#include "common/log.hpp"
#include "common/mode/client.hpp"
#include "common/mode/event.hpp"
#include "common/ratelimit/limiter.hpp"
#include "common/redis/connection.hpp"
#include "common/service_host.hpp"
#include "common/util/blocking_pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace gateway {

namespace {

std::vector<std::pair<std::string, std::string>> all_statements()
{
    std::vector<std::pair<std::string, std::string>> out;
    for (auto part : {user_store::statements(), link_store::statements(), session_store::statements(),
                      tokens::statements(), mail_outbox::statements(), membership_store::statements(),
                      event_history_store::statements()})
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

common::ratelimit::limiter_options limiter_options(const settings& s)
{
    common::ratelimit::limiter_options o;
    // Keys in Redis are keyed hashes of addresses, so Redis never holds a readable email or IP.
    o.hash_secret = common::crypto::hmac_sha256(s.mac_key, "modebridge rate limit keys");
    return o;
}

} // namespace

struct app::impl
{
    explicit impl(settings s)
        : cfg(std::move(s))
        , host("gateway", cfg.service, all_statements())
        , cipher(cfg.secret_key, cfg.previous_secret_keys)
        , hash_pool(cfg.password_hash_threads, 19)
        , http(host.ioc().get_executor())
        , mode(http, cfg.mode_api_url, cfg.mode_timeout, &host.metrics())
        , users(host.db())
        , links(host.db())
        , cache(cfg.session_cache_size, cfg.session_cache_ttl)
        , bus(net::make_strand(host.ioc()), host.redis(), common::redis::parse_url(cfg.service.redis_url), cache)
        , sessions(host.db(), cfg.session_idle_timeout, cfg.session_lifetime)
        , auth(sessions, cache, host.metrics())
        , limiter(host.redis(), limiter_options(cfg))
        , guard(cfg, limiter)
        , hasher(hash_pool, cfg.password_hash_queue)
        , outbox(host.db(), cipher)
        , mailer(net::make_strand(host.ioc()), outbox, cfg, host.metrics())
        , token_mails({cfg, host.db(), outbox, mailer})
        , linker(net::make_strand(host.ioc()), links, mode, cfg, host.metrics())
        , registrations({cfg, host.db(), hasher, limiter, sessions, token_mails, outbox, mailer, linker, bus})
        , logins({cfg, host.db(), hasher, guard, users, sessions, bus})
        , resets({cfg, host.db(), hasher, limiter, guard, users, sessions, token_mails, bus})
        , access(mode, linker, links, bus)
        , members(host.db())
        , history(host.db())
        , adds({cfg, host.db(), host.redis(), access, linker, users, links, members, outbox, mailer, limiter})
        , directory(access, members, cfg.membership_max_age)
        , notices(host.redis())
        , hub(net::make_strand(host.ioc()), common::redis::parse_url(cfg.service.redis_url), host.metrics(),
              cfg.service.threads)
        , live_counts(host.metrics())
        , admission(stream_admission::limits{cfg.max_connections, cfg.live_streams_per_user,
                                             static_cast<double>(cfg.connection_rate)},
                    host.metrics())
    {
        linker.announce_to(bus);
        bus.count_reconnects_on(host.metrics().counter_for("mb_redis_reconnects_total",
                                                           common::redis::reconnects_help, {{"connection", "sessions"}}));
        host.metrics().add_callback_gauge("mb_live_home_reads", "Reads of users' homes from MODE started (shared by the streams and requests that need them at once)",
                                          [this] { return static_cast<double>(directory.reads()); });
        // Live streams follow their users' homes: every change of the record is announced on the user's
        // channel (best effort; a stream also re-reads its homes when Redis comes back).
        members.on_change([this](std::vector<std::string> ids) -> net::awaitable<void> {
            for (const auto& id : ids) {
                try {
                    co_await host.redis().command("PUBLISH", common::mode::user_channel(id), R"({"type":"membership.changed"})");
                } catch (const std::exception& e) {
                    common::log::warn("live.announce_failed", {{"user_id", id}, {"error", e.what()}});
                }
            }
        });
        accounts::add_routes(host.routes(), accounts::deps{cfg.trust_forwarded_for, cfg.member_confirm_first, auth,
                                                           registrations, logins, resets, adds});
        homes::add_routes(host.routes(), homes::deps{auth, homes::parts{access, members, directory, notices, history}, adds});
        add_event_routes(host.routes(), stream_parts{cfg, auth, history, hub, directory, live_counts}, admission);
    }

    int run()
    {
        // Each loop owns a timer on its strand, so each runs there.
        net::co_spawn(bus.executor(), bus.run(), common::service_host::log_failure("sessions.bus"));
        net::co_spawn(host.ioc(), hub.run(), common::service_host::log_failure("live.hub"));
        // Before the listener opens: a login for an unknown address must never find the dummy hash unset.
        hasher.prepare();
        int code = host.run(
            [this]() -> net::awaitable<void> {
                net::co_spawn(mailer.executor(), mailer.run(), common::service_host::log_failure("mail.worker"));
                net::co_spawn(linker.executor(), linker.reseal_stored_keys(), common::service_host::log_failure("mode.reseal"));
                co_await net::co_spawn(linker.executor(), linker.run(), net::use_awaitable);
            },
            [this]() -> net::awaitable<void> {
                linker.stop();
                mailer.stop();
                bus.stop();
                hub.stop();
                http.close_idle();
                co_return;
            });
        hash_pool.join();
        return code;
    }

    settings cfg;
    common::service_host host;
    common::crypto::sealed_text cipher;
    common::blocking_pool hash_pool;
    common::client::http_client http;
    common::mode::client mode;
    user_store users;
    link_store links;
    session_cache cache;
    session_bus bus;
    session_store sessions;
    session_auth auth;
    common::ratelimit::limiter limiter;
    login_guard guard;
    password_hasher hasher;
    mail_outbox outbox;
    mail_worker mailer;
    token_mailer token_mails;
    mode_linker linker;
    registration registrations;
    login_flow logins;
    password_reset resets;
    mode_access access;
    membership_store members;
    event_history_store history;
    member_flow adds;
    home_directory directory;
    live_notices notices;
    live_hub hub;
    live_metrics live_counts;
    stream_admission admission;
};

app::app(settings s)
    : impl_(std::make_unique<impl>(std::move(s)))
{
}

app::~app() = default;

int app::run()
{
    return impl_->run();
}

const common::web::router& app::routes() const
{
    return impl_->host.routes();
}

} // namespace gateway
