#include "live/home_directory.hpp"

#include "homes/membership_store.hpp"
#include "mode/mode_access.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/web/problem.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace gateway {

/** A read under way, which callers from any executor may wait for. */
struct home_directory::flight
{
    clock::time_point started;
    std::mutex m;
    bool done = false;
    std::shared_ptr<const home_list> result;
    std::exception_ptr error;
    std::vector<std::shared_ptr<net::steady_timer>> waiters;

    void finish(std::shared_ptr<const home_list> r, std::exception_ptr e)
    {
        std::lock_guard lock(m);
        done = true;
        result = std::move(r);
        error = std::move(e);
        for (auto& t : waiters)
            net::post(t->get_executor(), [t] { t->cancel(); });
        waiters.clear();
    }
};

std::uint64_t home_directory::reads() const
{
    std::lock_guard lock(mutex_);
    return reads_;
}

net::awaitable<home_list> home_directory::wait(std::shared_ptr<flight> f)
{
    auto t = std::make_shared<net::steady_timer>(co_await net::this_coro::executor);
    bool registered = false;
    for (;;) {
        {
            std::lock_guard lock(f->m);
            if (f->done)
                break;
            if (!registered)
                f->waiters.push_back(t);
            registered = true;
        }
        // Woken by finish(); the timeout only bounds a wake-up that raced with the wait's start.
        t->expires_after(std::chrono::milliseconds(100));
        (void)co_await t->async_wait(net::as_tuple(net::use_awaitable));
    }
    if (f->error)
        std::rethrow_exception(f->error);
    co_return *f->result;
}

net::awaitable<home_list> home_directory::homes(const caller& who, clock::time_point not_before)
{
    auto now = clock::now();
    std::shared_ptr<flight> f;
    bool lead = false;
    {
        std::lock_guard lock(mutex_);
        auto& e = entries_[who.user.id];
        not_before = std::max(not_before, e.not_before);
        if (e.last && e.last_started >= not_before)
            co_return *e.last;
        if (e.in_flight && e.in_flight->started >= not_before) {
            f = e.in_flight;
        } else {
            f = std::make_shared<flight>();
            f->started = now;
            e.in_flight = f;
            lead = true;
            if (++reads_ % 1024 == 0)
                prune(now);
        }
    }
    if (!lead)
        co_return co_await wait(std::move(f));

    std::shared_ptr<const home_list> result;
    std::exception_ptr error;
    try {
        result = std::make_shared<const home_list>(co_await read(who));
    } catch (...) {
        error = std::current_exception();
    }
    {
        std::lock_guard lock(mutex_);
        auto& e = entries_[who.user.id];
        if (result && result->current && f->started >= e.not_before && (!e.last || e.last_started <= f->started)) {
            e.last = result;
            e.last_started = f->started;
        }
        if (e.in_flight == f)
            e.in_flight.reset();
    }
    f->finish(result, error);
    if (error)
        std::rethrow_exception(error);
    co_return *result;
}

void home_directory::forget_home(std::int64_t home)
{
    auto now = clock::now();
    std::lock_guard lock(mutex_);
    for (auto& [user, e] : entries_) {
        bool held = e.last && std::binary_search(e.last->homes.begin(), e.last->homes.end(), home);
        if (held)
            e.last.reset();
        if (held || e.in_flight)
            e.not_before = now;
    }
}

void home_directory::prune(clock::time_point now)
{
    // Users whose last read is older than any use of it: their entry is only memory.
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (!it->second.in_flight && now - it->second.last_started > max_age_)
            it = entries_.erase(it);
        else
            ++it;
    }
}

net::awaitable<void> home_directory::record(const caller& who, const std::vector<std::int64_t>& homes)
{
    bool stamp = false;
    {
        // The record notes the time of a read often enough to judge its age after a restart.
        std::lock_guard lock(mutex_);
        auto& e = entries_[who.user.id];
        auto now = clock::now();
        stamp = now - e.stamped > max_age_ / 4;
        if (!stamp && e.recorded == homes)
            co_return;
        e.recorded = homes;
        if (stamp)
            e.stamped = now;
    }
    try {
        (void)co_await record_.sync_user(who.user.id, homes, stamp);
    } catch (const std::exception& e) {
        // MODE's answer stands; the record catches up at the next read.
        common::log::warn("live.record_failed", {{"user_id", who.user.id}, {"error", e.what()}});
        std::lock_guard lock(mutex_);
        auto& cached = entries_[who.user.id];
        cached.stamped = {};
        cached.recorded.clear();
    }
}

net::awaitable<void> home_directory::note(const caller& who, std::vector<std::int64_t> homes, clock::time_point started)
{
    std::sort(homes.begin(), homes.end());
    homes.erase(std::unique(homes.begin(), homes.end()), homes.end());
    {
        std::lock_guard lock(mutex_);
        auto& e = entries_[who.user.id];
        if (started >= e.not_before && (!e.last || e.last_started <= started)) {
            e.last = std::make_shared<const home_list>(home_list{homes, std::chrono::system_clock::now(), true});
            e.last_started = started;
        }
    }
    co_await record(who, homes);
}

net::awaitable<home_list> home_directory::read(const caller& who)
{
    auto wall = std::chrono::system_clock::now();
    if (!who.user.mode_linked || !who.user.mode_user_id)
        co_return home_list{{}, wall, true}; // no MODE user yet: in no home
    bool unreachable = false;
    home_list out;
    try {
        auto items = co_await mode_.list_all(who, "/homes?userId=" + std::to_string(*who.user.mode_user_id));
        for (const auto& v : items)
            if (const auto* o = v.if_object())
                if (const auto* id = o->if_contains("id"); id != nullptr && id->is_int64())
                    out.homes.push_back(id->get_int64());
        std::sort(out.homes.begin(), out.homes.end());
        out.homes.erase(std::unique(out.homes.begin(), out.homes.end()), out.homes.end());
        out.read_at = wall;
    } catch (const common::web::problem& p) {
        // MODE refused (4xx): that is its answer. Unreachable, too slow, or the user's key being renewed:
        // the last copy may serve.
        if (static_cast<unsigned>(p.status()) < 500)
            throw;
        unreachable = true;
    }
    if (!unreachable) {
        co_await record(who, out.homes);
        co_return out;
    }

    {
        std::lock_guard lock(mutex_);
        auto& e = entries_[who.user.id];
        if (e.last && wall - e.last->read_at <= max_age_) {
            out = *e.last;
            out.current = false;
            co_return out;
        }
    }
    auto rec = co_await record_.recorded_homes(who.user.id);
    if (rec.read_at && wall - *rec.read_at <= max_age_)
        co_return home_list{std::move(rec.homes), *rec.read_at, false};
    throw common::unavailable_error("MODE_UNAVAILABLE",
                                    "MODE cannot be reached, and the last list of this user's homes read from it is too old",
                                    5);
}

} // namespace gateway
