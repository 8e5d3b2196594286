#include "routes/events.hpp"

#include "live_hub.hpp"
#include "membership_store.hpp"
#include "session_auth.hpp"
#include "settings.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/mode/event.hpp"
#include "common/web/problem.hpp"
#include "common/web/websocket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <charconv>
#include <deque>
#include <optional>
#include <random>
#include <set>

namespace gateway {

namespace web = common::web;

namespace {

constexpr std::uint16_t close_unauthenticated = 4001;
constexpr std::uint16_t close_too_slow = 4008;
constexpr int catch_up_page = 500;
// Seqs delivered live above the watermark are remembered (to skip them when catching up); past this
// many, a catch-up moves the watermark on and forgets them.
constexpr std::size_t delivered_limit = 4096;
// How often an open stream checks that its session still holds.
constexpr auto session_recheck = std::chrono::seconds(5);

struct query
{
    std::string access_token;
    std::optional<std::int64_t> after;
    std::string error; // a malformed `after`
};

query parse_query(const web::request& req)
{
    query q;
    auto u = boost::urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
    if (!u)
        return q;
    for (auto p : u->params()) {
        if (p.key == "access_token") {
            q.access_token = p.value;
        } else if (p.key == "after") {
            std::int64_t v = -1;
            auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
            if (ec != std::errc() || ptr != p.value.data() + p.value.size() || v < 0)
                q.error = "after: must be a non-negative integer";
            else
                q.after = v;
        }
    }
    return q;
}

/**
 * One user's live stream on one WebSocket. Events come from the hub (Redis) into a bounded queue; the
 * stream itself runs on the connection's strand, catches up from the store where Redis cannot be
 * trusted (a resume with `after`, a Redis reconnect), and never sends an event twice:
 *   - `watermark_`: every event of the user's homes up to it has been sent (or was before `after`);
 *   - `delivered_`: the seqs above the watermark sent since (live events need not arrive in seq order
 *     when several ingest instances publish).
 */
class live_stream final : public live_hub::listener, public std::enable_shared_from_this<live_stream>
{
public:
    live_stream(services& svc, live_hub& hub, web::ws_connection& ws, caller who, std::string token)
        : svc_(svc)
        , hub_(hub)
        , ws_(ws)
        , strand_(ws.executor())
        , who_(std::move(who))
        , token_(std::move(token))
        , wake_(strand_)
    {
    }

    ~live_stream() override = default;

    void deliver(std::shared_ptr<const message> m) override
    {
        net::post(strand_, [self = shared_from_this(), m = std::move(m)]() mutable { self->enqueue(std::move(m)); });
    }

    void resync() override
    {
        net::post(strand_, [self = shared_from_this()] {
            // Every stream of the instance is told at once: spread their store queries over a second.
            if (!self->resync_)
                self->store_retry_at_ = std::chrono::steady_clock::now() +
                                        jitter(std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
            self->resync_ = true;
            self->wake_.cancel();
        });
    }

    net::awaitable<void> run(std::optional<std::int64_t> after)
    {
        using namespace boost::asio::experimental::awaitable_operators;
        std::exception_ptr failed;
        try {
            co_await (read_loop() || write_loop(after));
        } catch (...) {
            failed = std::current_exception();
        }
        hub_.remove(*this, channels_);
        if (failed)
            std::rethrow_exception(failed);
    }

private:
    using item = std::shared_ptr<const message>;

    void enqueue(item i)
    {
        if (queue_.size() >= svc_.cfg.live_backlog) {
            too_slow_ = true;
            queue_.clear();
        } else {
            queue_.push_back(std::move(i));
        }
        wake_.cancel();
    }

    // Reading answers pings and takes in the close; clients have nothing to say.
    net::awaitable<void> read_loop()
    {
        for (;;) {
            auto msg = co_await ws_.read();
            if (!msg)
                co_return;
        }
    }

    net::awaitable<bool> send(std::string text) { co_return co_await ws_.write(std::move(text)); }

    std::vector<std::string> wanted_channels() const
    {
        std::vector<std::string> out{common::mode::user_channel(who_.user.id)};
        for (auto h : homes_)
            out.push_back(common::mode::home_channel(h));
        return out;
    }

    // The user's homes as recorded: subscribes to new ones, leaves the others.
    net::awaitable<void> load_homes()
    {
        auto list = co_await svc_.members.homes_of(who_.user.id);
        homes_ = std::set<std::int64_t>(list.begin(), list.end());
        auto wanted = wanted_channels();
        std::vector<std::string> gone;
        for (const auto& ch : channels_)
            if (std::find(wanted.begin(), wanted.end(), ch) == wanted.end())
                gone.push_back(ch);
        hub_.remove(*this, gone);
        hub_.add(*this, wanted);
        channels_ = std::move(wanted);
    }

    // Sends every stored event of the user's homes above `from` not sent yet; the watermark moves up.
    net::awaitable<bool> catch_up(std::int64_t from)
    {
        // Everything committed up to `top` is readable now (seq follows commit order), so once the pages
        // below are read, every event up to `top` has been sent.
        auto top = co_await svc_.members.last_seq();
        std::vector<std::int64_t> homes(homes_.begin(), homes_.end());
        std::int64_t at = from;
        while (!homes.empty() && at < top) {
            auto rows = co_await svc_.members.events_of_homes(homes, at, catch_up_page);
            for (auto& [seq, payload] : rows) {
                at = seq;
                if (seq > top || delivered_.count(seq) != 0)
                    continue;
                bool sent = co_await send(common::mode::live_event_json(seq, payload));
                if (!sent)
                    co_return false;
                // Remembered until the watermark passes it: a catch-up cut short by the store is
                // retried, and must not send it again.
                delivered_.insert(seq);
            }
            if (rows.size() < static_cast<std::size_t>(catch_up_page))
                break;
        }
        watermark_ = std::max(watermark_, top);
        delivered_.erase(delivered_.begin(), delivered_.upper_bound(watermark_));
        co_return true;
    }

    net::awaitable<bool> send_item(const message& i)
    {
        if (auto home = common::mode::home_of_channel(i.channel)) {
            if (i.seq <= 0 || homes_.count(*home) == 0 || i.seq <= watermark_ || !delivered_.insert(i.seq).second)
                co_return true;
            if (delivered_.size() > delivered_limit)
                resync_ = true;
            co_return co_await send(i.payload);
        }
        // A notification for this user; a change of their homes is for us only.
        boost::system::error_code ec;
        auto v = boost::json::parse(i.payload, ec);
        if (ec || !v.is_object())
            co_return true;
        const auto* type = v.as_object().if_contains("type");
        if (type == nullptr || !type->is_string())
            co_return true;
        if (type->get_string() == "membership.changed" || type->get_string() == "member.added")
            reload_ = true;
        if (type->get_string() == "membership.changed")
            co_return true;
        co_return co_await send(i.payload);
    }

    // True once the `||` in run() cancelled the writer (the reader ended: the connection is over).
    static net::awaitable<bool> cancelled()
    {
        auto state = co_await net::this_coro::cancellation_state;
        co_return state.cancelled() != net::cancellation_type::none;
    }

    net::awaitable<bool> session_holds()
    {
        try {
            (void)co_await svc_.auth.authenticate_token(token_);
            co_return true;
        } catch (const web::problem& p) {
            if (static_cast<unsigned>(p.status()) != 401)
                co_return true; // the store is down: keep the stream, check again later
        } catch (const std::exception&) {
            co_return true;
        }
        co_return false;
    }

    // A random duration in [lo, hi): spreads the store queries of many streams told to resync at once.
    static std::chrono::milliseconds jitter(std::chrono::milliseconds lo, std::chrono::milliseconds hi)
    {
        thread_local std::minstd_rand gen{std::random_device{}()};
        std::uniform_int_distribution<std::int64_t> d(lo.count(), hi.count() - 1);
        return std::chrono::milliseconds(d(gen));
    }

    // Re-reads the user's homes and/or catches up, as flagged; throws unavailable_error (flags kept).
    net::awaitable<bool> refresh()
    {
        if (reload_) {
            auto before = homes_;
            co_await load_homes();
            reload_ = false;
            (void)co_await hub_.sync();
            // A new home's events may have been published before its channel was subscribed:
            // catching up from the watermark finds them in the store.
            for (auto h : homes_)
                if (before.count(h) == 0)
                    resync_ = true;
        }
        if (resync_) {
            bool ok = co_await catch_up(watermark_);
            resync_ = false;
            co_return ok;
        }
        co_return true;
    }

    net::awaitable<void> write_loop(std::optional<std::int64_t> after)
    {
        co_await load_homes();
        // Subscribed before reading the store: nothing published from here on can fall between the two.
        (void)co_await hub_.sync();
        std::int64_t from = 0;
        if (after)
            from = *after;
        else
            from = co_await svc_.members.last_seq();
        watermark_ = from;
        bool ok = co_await catch_up(from);
        if (!ok)
            co_return;
        boost::json::object ready;
        ready["type"] = "ready";
        ready["lastSeq"] = watermark_;
        ok = co_await send(boost::json::serialize(ready));
        if (!ok)
            co_return;
        auto next_check = std::chrono::steady_clock::now() + session_recheck;
        for (;;) {
            bool over = co_await cancelled();
            if (over)
                co_return;
            if (too_slow_) {
                common::log::info("live.too_slow", {{"user_id", who_.user.id}});
                // Completes the closing handshake through the pending read, which then ends run()'s `||`.
                co_await ws_.close(close_too_slow, "too slow to keep up; reconnect with after");
                co_return;
            }
            if (std::chrono::steady_clock::now() >= next_check) {
                next_check = std::chrono::steady_clock::now() + session_recheck;
                bool holds = co_await session_holds();
                if (!holds) {
                    co_await ws_.close(close_unauthenticated, "the session ended");
                    co_return;
                }
            }
            if ((reload_ || resync_) && std::chrono::steady_clock::now() >= store_retry_at_) {
                bool store_down = false;
                try {
                    ok = co_await refresh();
                } catch (const common::unavailable_error&) {
                    store_down = true;
                }
                if (store_down) {
                    // Live events keep flowing meanwhile; the store is asked again in a moment.
                    store_retry_at_ = std::chrono::steady_clock::now() + jitter(std::chrono::milliseconds(1000),
                                                                                std::chrono::milliseconds(3000));
                    continue;
                }
                if (!ok)
                    co_return;
                continue;
            }
            if (queue_.empty()) {
                wake_.expires_at((reload_ || resync_) ? std::min(next_check, store_retry_at_) : next_check);
                co_await wake_.async_wait(net::as_tuple(net::use_awaitable));
                continue;
            }
            auto i = std::move(queue_.front());
            queue_.pop_front();
            ok = co_await send_item(*i);
            if (!ok)
                co_return;
        }
    }

    services& svc_;
    live_hub& hub_;
    web::ws_connection& ws_;
    net::any_io_executor strand_;
    caller who_;
    std::string token_;
    net::steady_timer wake_;
    // On the strand:
    std::deque<item> queue_;
    std::set<std::int64_t> homes_;
    std::vector<std::string> channels_;
    std::int64_t watermark_ = 0;
    std::set<std::int64_t> delivered_;
    bool too_slow_ = false;
    bool resync_ = false;
    bool reload_ = false;
    std::chrono::steady_clock::time_point store_retry_at_{}; // no store query before then
};

} // namespace

void add_event_routes(web::router& r, services& svc, live_hub& hub)
{
    r.add_websocket("/v1/events", [&](const web::request& req, web::request_context&,
                                      web::ws_connection& ws) -> net::awaitable<void> {
        auto q = parse_query(req);
        if (!q.error.empty()) {
            co_await ws.close(web::ws_close::policy_violation, q.error);
            co_return;
        }
        auto token = session_auth::bearer_token(req);
        if (token.empty())
            token = q.access_token;
        bool unavailable = false;
        try {
            std::optional<caller> who;
            try {
                who = co_await svc.auth.authenticate_token(token);
            } catch (const web::problem& p) {
                if (static_cast<unsigned>(p.status()) != 401)
                    throw;
            }
            if (!who) {
                co_await ws.close(close_unauthenticated, "unauthenticated");
                co_return;
            }
            auto stream = std::make_shared<live_stream>(svc, hub, ws, std::move(*who), std::move(token));
            co_await stream->run(q.after);
        } catch (const common::unavailable_error& e) {
            // The store is down: the client should come back later (with `after`).
            common::log::warn("live.unavailable", {{"code", e.code()}, {"error", e.what()}});
            unavailable = true;
        }
        if (unavailable)
            co_await ws.close(web::ws_close::try_again_later, "a service the stream needs is unavailable");
    });
}

} // namespace gateway
