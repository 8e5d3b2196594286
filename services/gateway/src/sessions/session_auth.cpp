#include "sessions/session_auth.hpp"

#include "common/crypto/crypto.hpp"
#include "common/service_host.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/string.hpp>

namespace gateway {

namespace {

std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Recording every use would be a write per request: record it at most once a minute (or a quarter of
// the idle timeout, when that is shorter), a slack that is nothing next to the timeout itself.
std::int64_t touch_interval_ms(std::chrono::milliseconds idle)
{
    return std::min<std::int64_t>(60'000, idle.count() / 4);
}

} // namespace

session_auth::session_auth(session_store& store, session_cache& cache, common::metrics::registry& m)
    : store_(store)
    , cache_(cache)
    , hits_(m.counter_for("mb_session_cache_total", "Session lookups by outcome", {{"result", "hit"}}))
    , misses_(m.counter_for("mb_session_cache_total", "Session lookups by outcome", {{"result", "miss"}}))
    , negative_hits_(
          m.counter_for("mb_session_cache_total", "Session lookups by outcome", {{"result", "negative_hit"}}))
{
}

std::string session_auth::bearer_token(const common::web::request& req)
{
    auto h = req[http::field::authorization];
    std::string_view v(h.data(), h.size());
    constexpr std::string_view scheme = "bearer ";
    if (v.size() <= scheme.size() || !boost::beast::iequals(v.substr(0, scheme.size()), scheme))
        return {};
    v.remove_prefix(scheme.size());
    while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ')
        v.remove_suffix(1);
    return std::string(v);
}

net::awaitable<caller> session_auth::authenticate(const common::web::request& req)
{
    co_return co_await authenticate_token(bearer_token(req));
}

net::awaitable<caller> session_auth::authenticate_token(const std::string& token)
{
    // Our tokens are 43 characters; anything far off that is not one of ours.
    if (token.size() < 16 || token.size() > 256)
        throw common::web::unauthenticated();
    auto hash = common::crypto::sha256_hex(token);
    auto now = now_ms();
    auto row = cache_.get(hash);
    if (row && (now >= row->expires_at_ms || now - row->last_seen_ms >= store_.idle_timeout().count())) {
        cache_.evict_session(row->id);
        row.reset();
    }
    if (row) {
        hits_.inc();
    } else if (cache_.known_unknown(hash)) {
        negative_hits_.inc();
        throw common::web::unauthenticated();
    } else {
        misses_.inc();
        const auto generation = cache_.generation();
        row = co_await store_.lookup(hash);
        if (!row) {
            cache_.put_unknown(hash);
            throw common::web::unauthenticated();
        }
        cache_.put(hash, *row, generation);
    }
    if (now - row->last_seen_ms > touch_interval_ms(store_.idle_timeout())) {
        cache_.seen(hash, now);
        auto touch = [this, id = row->id]() -> net::awaitable<void> { co_await store_.touch(id); };
        net::co_spawn(co_await net::this_coro::executor, std::move(touch),
                      common::service_host::log_failure("sessions.touch"));
    }
    co_return caller{row->id, std::move(row->user), std::move(row->sealed_mode_key)};
}

} // namespace gateway
