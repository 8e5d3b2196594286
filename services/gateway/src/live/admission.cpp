#include "live/admission.hpp"

#include "common/metrics.hpp"
#include "common/web/problem.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace gateway {

namespace web = common::web;

struct stream_admission::state
{
    state(limits l, common::metrics::registry& m)
        : lim(l)
        , tokens(std::max(1.0, l.rate))
        , refilled(std::chrono::steady_clock::now())
        , full(m.counter_for("mb_live_refused_total", "Live stream connections refused before the upgrade",
                             {{"reason", "connections"}}))
        , too_fast(m.counter_for("mb_live_refused_total", "Live stream connections refused before the upgrade",
                                 {{"reason", "rate"}}))
        , per_user(m.counter_for("mb_live_refused_total", "Live stream connections refused before the upgrade",
                                 {{"reason", "user"}}))
    {
    }

    limits lim;
    std::mutex mutex;
    std::size_t open = 0;
    std::unordered_map<std::string, std::size_t> users;
    double tokens;
    std::chrono::steady_clock::time_point refilled;
    common::metrics::counter& full;
    common::metrics::counter& too_fast;
    common::metrics::counter& per_user;
};

class stream_admission::ticket
{
public:
    explicit ticket(std::shared_ptr<state> s)
        : state_(std::move(s))
    {
    }
    ~ticket()
    {
        std::lock_guard lock(state_->mutex);
        --state_->open;
        if (user_.empty())
            return;
        auto it = state_->users.find(user_);
        if (it != state_->users.end() && --it->second == 0)
            state_->users.erase(it);
    }
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;

private:
    friend class stream_admission;
    std::shared_ptr<state> state_;
    std::string user_;
};

stream_admission::stream_admission(limits l, common::metrics::registry& metrics)
    : state_(std::make_shared<state>(l, metrics))
{
}

stream_admission::~stream_admission() = default;

std::shared_ptr<stream_admission::ticket> stream_admission::enter()
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    if (s.open >= s.lim.max_connections) {
        s.full.inc();
        throw web::service_unavailable("TOO_MANY_CONNECTIONS",
                                       "this instance holds as many live streams as it may; try again shortly", 5);
    }
    // A token bucket: `rate` tokens a second, at most one second's worth kept.
    auto now = std::chrono::steady_clock::now();
    std::chrono::duration<double> since = now - s.refilled;
    s.refilled = now;
    s.tokens = std::min(std::max(1.0, s.lim.rate), s.tokens + since.count() * s.lim.rate);
    if (s.tokens < 1.0) {
        s.too_fast.inc();
        throw web::service_unavailable("CONNECTION_RATE_EXCEEDED",
                                       "new live streams are coming faster than this instance takes them; try again in a second",
                                       1);
    }
    s.tokens -= 1.0;
    ++s.open;
    return std::make_shared<ticket>(state_);
}

void stream_admission::claim(ticket& t, const std::string& user)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    auto& n = s.users[user];
    if (n >= s.lim.per_user) {
        if (n == 0)
            s.users.erase(user);
        s.per_user.inc();
        throw web::problem(boost::beast::http::status::too_many_requests, "TOO_MANY_STREAMS",
                           "this user has as many live streams open as allowed; close one first")
            .with_header("Retry-After", "5");
    }
    ++n;
    t.user_ = user;
}

} // namespace gateway
