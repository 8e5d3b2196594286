#include "webhook_module.hpp"

#include "views.hpp"

#include "common/crypto/crypto.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace modesim {

namespace json = boost::json;
using std::chrono::milliseconds;

std::string_view to_string(delivery_state s)
{
    switch (s) {
    case delivery_state::pending:
        return "pending";
    case delivery_state::delivered:
        return "delivered";
    case delivery_state::failed:
        return "failed";
    }
    return "pending";
}

json::object to_json(const webhook_delivery& d)
{
    json::object o{
        {"id", d.id},
        {"eventType", d.event_type},
        {"homeId", d.home_id},
        {"url", d.url},
        {"status", nullptr},
        {"attempts", d.attempts},
        {"state", to_string(d.state)},
        {"lastError", nullptr},
        {"body", d.body},
    };
    if (d.status)
        o["status"] = *d.status;
    if (d.last_error)
        o["lastError"] = *d.last_error;
    return o;
}

attempt_verdict judge_status(unsigned status)
{
    if (status >= 200 && status < 300)
        return attempt_verdict::delivered;
    // 408 and 429 say "not now" rather than "not this": the one kind of 4xx worth sending again.
    if (status >= 400 && status < 500 && status != 408 && status != 429)
        return attempt_verdict::final_failure;
    return attempt_verdict::retry;
}

milliseconds backoff_delay(const webhook_options& o, unsigned n)
{
    auto delay = std::max(o.retry_min, milliseconds(1));
    // Doubling stops at the cap, so a long retry series cannot overflow.
    for (unsigned i = 1; i < n && delay < o.retry_max; ++i)
        delay *= 2;
    return std::min(delay, std::max(o.retry_max, o.retry_min));
}

common::client::request webhook_request(const webhook_options& o, std::string body)
{
    common::client::request req;
    req.method = http::verb::post;
    req.url = o.url;
    req.content_type = "application/json";
    // MODE signs the configured URL string followed by the raw body, with no separator (mode-api.md).
    req.headers.emplace_back("X-Mode-Signature", common::crypto::hmac_sha256_hex(o.key, o.url + body));
    req.headers.emplace_back("X-Mode-ModuleID", o.module_id);
    req.headers.emplace_back("X-Mode-ProjectID", std::to_string(o.project_id));
    req.body = std::move(body);
    req.timeout = o.timeout;
    return req;
}

namespace {

/** One running delivery. Its timer and flag are touched on its strand only. */
struct delivery_task
{
    explicit delivery_task(const net::any_io_executor& ex)
        : strand(net::make_strand(ex))
        , timer(strand)
    {}

    net::strand<net::any_io_executor> strand;
    net::steady_timer timer; // the backoff wait: cancelled to abandon it
    bool abandoned = false;
};

/** The outcome of one attempt. */
struct attempt_result
{
    std::optional<unsigned> status;
    std::optional<std::string> error;
    attempt_verdict verdict = attempt_verdict::retry;
};

common::client::options client_options(const webhook_options& o)
{
    common::client::options c;
    c.connect_timeout = std::min(c.connect_timeout, o.timeout);
    c.request_timeout = o.timeout;
    c.body_limit = 64 * 1024; // the receiver's answer is only looked at for its status
    c.user_agent = "mode-sim-webhooks";
    return c;
}

} // namespace

struct webhook_module::shared
{
    shared(net::any_io_executor executor, webhook_options o)
        : ex(std::move(executor))
        , opts(std::move(o))
        , client(ex, client_options(opts))
    {}

    /** Applies `f` to record `id` if it is still recorded (under the mutex). */
    template <class F>
    void update(std::uint64_t id, F f)
    {
        std::lock_guard lock(mutex);
        // Ids grow by one per delivery and the record only loses its oldest entries (or all): sorted.
        auto it = std::lower_bound(records.begin(), records.end(), id,
                                   [](const webhook_delivery& d, std::uint64_t v) { return d.id < v; });
        if (it != records.end() && it->id == id)
            f(*it);
    }

    void record_attempt(std::uint64_t id, const attempt_result& r)
    {
        update(id, [&](webhook_delivery& d) {
            if (r.status)
                d.status = r.status;
            if (r.error)
                d.last_error = r.error;
            if (r.verdict == attempt_verdict::delivered)
                d.state = delivery_state::delivered;
            else if (r.verdict == attempt_verdict::final_failure)
                d.state = delivery_state::failed;
        });
    }

    void fail(std::uint64_t id, std::string why)
    {
        update(id, [&](webhook_delivery& d) {
            d.state = delivery_state::failed;
            d.last_error = std::move(why);
        });
    }

    void finished(std::uint64_t id)
    {
        std::lock_guard lock(mutex);
        tasks.erase(id);
    }

    const net::any_io_executor ex;
    const webhook_options opts;
    common::client::http_client client;
    std::atomic<bool> stopping{false};
    mutable std::mutex mutex;
    std::deque<webhook_delivery> records;                         // guarded by mutex
    std::uint64_t last_id = 0;                                    // guarded by mutex
    std::map<std::uint64_t, std::shared_ptr<delivery_task>> tasks; // running deliveries; guarded by mutex
};

namespace {

using shared_state = webhook_module::shared;

net::awaitable<attempt_result> attempt_once(shared_state& s, const common::client::request& req)
{
    attempt_result r;
    try {
        auto res = co_await s.client.send(req);
        r.status = res.status;
        r.verdict = judge_status(res.status);
        if (r.verdict != attempt_verdict::delivered)
            r.error = "HTTP " + std::to_string(res.status);
    } catch (const common::client::error& e) {
        // Timeouts, refused or dropped connections and garbled answers: the receiver may recover.
        r.error = std::string(common::client::to_string(e.kind())) + ": " + e.what();
    } catch (const std::invalid_argument& e) {
        // The URL passed the settings check but the client refuses it: no retry can fix that.
        r.error = std::string("invalid request: ") + e.what();
        r.verdict = attempt_verdict::final_failure;
    } catch (const boost::system::system_error& e) {
        r.error = e.what(); // cancelled: the loop sees the task abandoned
    }
    co_return r;
}

// One event's delivery, on its task's strand: attempt, then wait and attempt again while the answer says
// "retry" and the give-up time allows; the record is updated around every attempt.
net::awaitable<void> run_delivery(std::shared_ptr<shared_state> s, std::shared_ptr<delivery_task> t,
                                  std::uint64_t id, common::client::request req)
{
    using clock = std::chrono::steady_clock;
    const auto first = clock::now();
    constexpr std::string_view abandoned = "abandoned: the emulator is shutting down";
    auto outcome = delivery_state::failed;
    std::optional<unsigned> last_status;
    unsigned attempt = 1;
    for (;; ++attempt) {
        s->update(id, [attempt](webhook_delivery& d) { d.attempts = attempt; });
        attempt_result r = co_await attempt_once(*s, req);
        s->record_attempt(id, r);
        last_status = r.status ? r.status : last_status;
        if (r.verdict == attempt_verdict::delivered)
            outcome = delivery_state::delivered;
        if (r.verdict != attempt_verdict::retry)
            break;
        if (t->abandoned || s->stopping) {
            s->fail(id, std::string(abandoned));
            break;
        }
        const auto delay = backoff_delay(s->opts, attempt);
        if (clock::now() + delay - first > s->opts.give_up) {
            s->fail(id, "gave up after " + std::to_string(attempt) + " attempts; last: " + r.error.value_or(""));
            break;
        }
        common::log::debug("sim.webhook_retry", {{"delivery", id},
                                                 {"attempt", attempt},
                                                 {"delay_ms", delay.count()},
                                                 {"error", r.error.value_or("")}});
        t->timer.expires_after(delay);
        co_await t->timer.async_wait(net::as_tuple(net::use_awaitable));
        if (t->abandoned) {
            s->fail(id, std::string(abandoned));
            break;
        }
    }
    s->finished(id);
    common::log::info("sim.webhook", {{"delivery", id},
                                      {"state", to_string(outcome)},
                                      {"attempts", attempt},
                                      {"status", last_status ? json::value(*last_status) : json::value(nullptr)}});
}

} // namespace

webhook_module::webhook_module(net::any_io_executor ex, std::optional<webhook_options> opts)
{
    if (opts)
        shared_ = std::make_shared<shared>(std::move(ex), std::move(*opts));
}

webhook_module::~webhook_module() = default;

void webhook_module::deliver(const event_record& e)
{
    // MODE's module receives the events of the project's homes; a device in no home raises nothing for it.
    if (!shared_ || !e.home_id)
        return;
    webhook_delivery d;
    d.event_type = e.event_type;
    d.home_id = *e.home_id;
    d.url = shared_->opts.url;
    d.body = json::serialize(to_json(e));
    auto req = webhook_request(shared_->opts, d.body);
    auto task = std::make_shared<delivery_task>(shared_->ex);
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->stopping) {
            common::log::info("sim.webhook_dropped", {{"event_type", e.event_type}, {"reason", "shutting down"}});
            return;
        }
        d.id = ++shared_->last_id;
        shared_->records.push_back(d);
        while (shared_->records.size() > shared_->opts.max_records)
            shared_->records.pop_front();
        shared_->tasks.emplace(d.id, task);
    }
    // Named before co_spawn: GCC 12 mishandles a coroutine temporary there (bug 107288).
    auto run = run_delivery(shared_, task, d.id, std::move(req));
    net::co_spawn(task->strand, std::move(run), [s = shared_, id = d.id](std::exception_ptr ep) {
        if (!ep)
            return;
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& ex) {
            common::log::error("sim.webhook", {{"delivery", id}, {"error", ex.what()}});
        }
        s->fail(id, "internal error");
        s->finished(id);
    });
}

std::vector<webhook_delivery> webhook_module::deliveries() const
{
    if (!shared_)
        return {};
    std::lock_guard lock(shared_->mutex);
    return {shared_->records.begin(), shared_->records.end()};
}

webhook_counts webhook_module::counts() const
{
    webhook_counts c;
    if (!shared_)
        return c;
    std::lock_guard lock(shared_->mutex);
    for (const auto& d : shared_->records)
        ++(d.state == delivery_state::pending     ? c.pending
           : d.state == delivery_state::delivered ? c.delivered
                                                  : c.failed);
    return c;
}

void webhook_module::clear()
{
    if (!shared_)
        return;
    std::lock_guard lock(shared_->mutex);
    shared_->records.clear();
}

void webhook_module::shutdown()
{
    if (!shared_)
        return;
    std::vector<std::shared_ptr<delivery_task>> running;
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->stopping.exchange(true))
            return;
        for (const auto& [id, t] : shared_->tasks)
            running.push_back(t);
    }
    // The timer belongs to the task's strand: cancel it there. A delivery in flight finds the flag after
    // its attempt (bounded by the timeout) and stops unless that attempt succeeded.
    for (const auto& t : running)
        net::post(t->strand, [t] {
            t->abandoned = true;
            t->timer.cancel();
        });
    shared_->client.close_idle();
    common::log::info("sim.webhooks_stopped", {{"abandoned", running.size()}});
}

} // namespace modesim
