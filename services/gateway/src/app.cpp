#include "app.hpp"

#include "mode_linker.hpp"
#include "routes/accounts.hpp"
#include "services.hpp"
#include "session_auth.hpp"
#include "user_store.hpp"

#include "common/client/http_client.hpp"
#include "common/mode/client.hpp"
#include "common/service_host.hpp"
#include "common/util/blocking_pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace gateway {

struct app::impl
{
    explicit impl(settings s)
        : cfg(std::move(s))
        , host("gateway", cfg.service, user_store::statements())
        , hash_pool(cfg.password_hash_threads)
        , http(host.ioc().get_executor())
        , mode(http, cfg.mode_api_url, cfg.mode_timeout)
        , users(host.db())
        , linker(net::make_strand(host.ioc()), users, mode, cfg, host.metrics())
        , auth(users, cfg.session_idle_timeout)
        , svc{cfg, host.metrics(), host.db(), hash_pool, mode, users, linker, auth}
    {
        add_account_routes(host.routes(), svc);
    }

    int run()
    {
        int code = host.run(
            [this]() -> net::awaitable<void> {
                // The linker's timer lives on its strand: run the loop there.
                co_await net::co_spawn(linker.executor(), linker.run(), net::use_awaitable);
            },
            [this]() -> net::awaitable<void> {
                linker.stop();
                http.close_idle();
                co_return;
            });
        hash_pool.join();
        return code;
    }

    settings cfg;
    common::service_host host;
    common::blocking_pool hash_pool;
    common::client::http_client http;
    common::mode::client mode;
    user_store users;
    mode_linker linker;
    session_auth auth;
    services svc;
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

} // namespace gateway
