#include "mode/mode_linker.hpp"

#include "sessions/session_bus.hpp"
#include "settings.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"

#include <algorithm>

namespace gateway {

using namespace std::chrono;

mode_linker::mode_linker(net::any_io_executor strand, link_store& links, common::mode::client& mode,
                         const settings& s, common::metrics::registry& m)
    : links_(links)
    , mode_(mode)
    , settings_(s)
    , cipher_(s.secret_key, s.previous_secret_keys)
    , linked_(m.counter_for("mb_mode_links_total", "Accounts linked to a MODE user"))
    , failed_(m.counter_for("mb_mode_link_failures_total", "Failed attempts to link an account to MODE"))
    , retry_(s.mode_link_retry_min, s.mode_link_retry_max, common::jitter::equal)
    // Idle: a look for due accounts every second; an error (the database) waits 2 s.
    , loop_(std::move(strand), "mode.linker", milliseconds(1000),
            common::backoff(milliseconds(2000), milliseconds(2000), common::jitter::none))
{
}

std::string mode_linker::seal_key(const std::string& user_id, const std::string& key) const
{
    return cipher_.seal(key, user_id);
}

std::optional<std::string> mode_linker::open_key(const std::string& user_id, const std::string& sealed) const
{
    return cipher_.open(sealed, user_id);
}

net::awaitable<void> mode_linker::reseal_stored_keys()
{
    const std::string& prefix = cipher_.current_prefix();
    std::string after = "00000000-0000-0000-0000-000000000000";
    int resealed = 0;
    int unreadable = 0;
    for (;;) {
        auto rows = co_await links_.keys_to_reseal(prefix, after, 100);
        if (rows.empty())
            break;
        for (auto& [id, sealed] : rows) {
            if (auto key = open_key(id, sealed)) {
                co_await links_.reseal_key(id, sealed, seal_key(id, *key));
                ++resealed;
            } else {
                ++unreadable;
            }
        }
        after = rows.back().first;
    }
    if (resealed > 0 || unreadable > 0)
        common::log::info("mode.keys_resealed", {{"resealed", resealed}, {"unreadable", unreadable}});
}

net::awaitable<void> mode_linker::link(const std::string& user_id, link_result& r,
                                       steady_clock::time_point deadline)
{
    auto remaining = [&] { return std::max(milliseconds(1), duration_cast<milliseconds>(deadline - steady_clock::now())); };
    if (!r.mode_user_id) {
        // The account id as MODE's externalKey ties the MODE user back to this account.
        r.mode_user_id = co_await mode_.create_user(settings_.mode_project_key, settings_.mode_project_id, user_id,
                                                    remaining());
        co_await links_.set_mode_user_id(user_id, *r.mode_user_id);
    }
    auto key = co_await mode_.issue_user_key(settings_.mode_project_key, settings_.mode_project_id, *r.mode_user_id,
                                             remaining());
    co_await links_.set_linked(user_id, seal_key(user_id, key));
    r.linked = true;
    if (bus_ != nullptr)
        co_await bus_->user_changed(user_id);
}

net::awaitable<link_result> mode_linker::attempt(std::string user_id, std::optional<std::int64_t> mode_user_id,
                                                 int attempts, milliseconds timeout)
{
    link_result r;
    r.mode_user_id = mode_user_id;
    std::string reason;
    try {
        co_await link(user_id, r, steady_clock::now() + timeout);
        linked_.inc();
        common::log::info("mode.linked", {{"user_id", user_id}, {"mode_user_id", *r.mode_user_id}});
        co_return r;
    } catch (const common::mode::error& e) {
        reason = e.what();
    } catch (const common::unavailable_error& e) {
        reason = e.what();
    } catch (const std::exception& e) {
        reason = std::string("unexpected: ") + e.what();
    }
    failed_.inc();
    auto delay = backoff(attempts);
    common::log::warn("mode.link_failed",
                      {{"user_id", user_id}, {"error", reason}, {"attempt", attempts + 1}, {"retry_in_ms", delay.count()}});
    try {
        co_await links_.link_failed(user_id, delay, reason.substr(0, 500));
    } catch (const std::exception& e) {
        // The lease runs out by itself; the background loop picks the account up then.
        common::log::warn("mode.link_schedule_failed", {{"user_id", user_id}, {"error", e.what()}});
    }
    co_return r;
}

net::awaitable<void> mode_linker::run()
{
    co_await loop_.run([this]() -> net::awaitable<bool> {
        auto job = co_await links_.claim_link(lease);
        if (!job)
            co_return false;
        co_await attempt(job->user_id, job->mode_user_id, job->attempts, settings_.mode_timeout);
        co_return true;
    });
}

void mode_linker::stop()
{
    loop_.stop();
}

} // namespace gateway
