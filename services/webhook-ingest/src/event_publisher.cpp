#include "event_publisher.hpp"

#include "common/db/pg_array.hpp"
#include "common/mode/event.hpp"
#include "common/log.hpp"
#include "common/redis/reply.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <pqxx/result>
#include <pqxx/transaction>

#include <algorithm>

namespace ingest {

namespace {

constexpr std::size_t relay_batch = 500;

std::string seq_array(const std::vector<stored_event>& events)
{
    return common::db::int_array(events, &stored_event::seq);
}

} // namespace

event_publisher::event_publisher(net::any_io_executor strand, common::redis::connection& redis, common::db::pg_pool& db,
                                 common::metrics::registry& m)
    : redis_(redis)
    , db_(db)
    , published_(m.counter_for("mb_events_published_total", "Events published on Redis", {{"path", "direct"}}))
    , relayed_(m.counter_for("mb_events_published_total", "Events published on Redis", {{"path", "relay"}}))
    , backlog_gauge_(m.gauge_for("mb_events_publish_backlog", "1 while events wait for Redis"))
    // Passes catch their own failures; the error backoff only guards against the unexpected.
    , loop_(std::move(strand), "events.publisher", std::chrono::seconds(1),
            common::backoff(std::chrono::seconds(1), std::chrono::seconds(1), common::jitter::none))
{
}

std::vector<std::pair<std::string, std::string>> event_publisher::statements()
{
    return {
        {"events_mark_published",
         "UPDATE events SET published = true, claimed_at = NULL WHERE seq = ANY($1::bigint[])"},
        {"events_unclaim", "UPDATE events SET claimed_at = NULL WHERE seq = ANY($1::bigint[])"},
        // The relay claims the oldest unpublished events (recent ones are left to the direct path
        // unless a backlog is being drained); they count as unpublished until Redis took them.
        {"events_claim_unpublished",
         "UPDATE events SET claimed_at = now() WHERE seq IN (SELECT seq FROM events WHERE NOT published "
         "AND (claimed_at IS NULL OR claimed_at < now() - interval '30 seconds') "
         "AND ($2 OR received_at < now() - interval '1 second') ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED) "
         "RETURNING seq, home_id, payload"},
        // The published watermark: every event up to it has been published. Both subqueries read one
        // snapshot; an event committed later has a higher seq (the writers' advisory lock).
        {"events_published_through",
         "SELECT COALESCE((SELECT min(seq) FROM events WHERE NOT published) - 1, (SELECT max(seq) FROM events), 0)"},
    };
}

void event_publisher::committed(std::vector<stored_event> events)
{
    {
        std::lock_guard lock(mutex_);
        for (auto& e : events)
            pending_.push_back(std::move(e));
    }
    loop_.wake();
}

net::awaitable<void> event_publisher::publish(const std::vector<stored_event>& events)
{
    std::vector<std::vector<std::string>> commands;
    commands.reserve(events.size());
    for (const auto& e : events)
        commands.push_back({"PUBLISH", common::mode::home_channel(e.home_id), common::mode::live_event_json(e.seq, e.payload)});
    auto replies = co_await redis_.pipeline(std::move(commands));
    for (const auto& r : replies)
        if (r.is_error())
            throw common::redis::error(common::redis::error_kind::server, "PUBLISH refused: " + r.str);
}

net::awaitable<std::int64_t> event_publisher::mark_published(const std::vector<stored_event>& events)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        // Not waiting for the disk: the flag only spares the relay work. Lost in a crash, the events
        // are published again, which readers tolerate; the watermark announced stays true.
        tx.exec("SET LOCAL synchronous_commit TO OFF");
        tx.exec_prepared("events_mark_published", seq_array(events));
        auto through = tx.exec_prepared1("events_published_through")[0].as<std::int64_t>();
        tx.commit();
        return through;
    });
}

net::awaitable<void> event_publisher::announce(std::int64_t through)
{
    if (through <= announced_)
        co_return;
    try {
        auto reply = co_await redis_.command("PUBLISH", std::string(common::mode::published_channel()),
                                             std::to_string(through));
        if (!reply.is_error())
            announced_ = through;
    } catch (const std::exception& e) {
        // The next batch announces a higher watermark, which covers this one.
        common::log::debug("events.watermark_not_announced", {{"error", e.what()}});
    }
}

net::awaitable<std::size_t> event_publisher::relay_once(bool backlog)
{
    auto claimed = co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto rows = tx.exec_prepared("events_claim_unpublished", static_cast<std::int64_t>(relay_batch), backlog);
        tx.commit();
        std::vector<stored_event> out;
        for (const auto& r : rows)
            out.push_back(stored_event{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::string>()});
        return out;
    });
    if (claimed.empty())
        co_return 0;
    std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    bool ok = true;
    try {
        co_await publish(claimed);
    } catch (const std::exception&) {
        ok = false;
    }
    if (!ok) {
        // Give them back for the next round.
        co_await db_.run([&](pqxx::connection& c) {
            pqxx::work tx(c);
            tx.exec_prepared("events_unclaim", seq_array(claimed));
            tx.commit();
        });
        throw common::redis::error(common::redis::error_kind::unavailable, "Redis refused the relayed events");
    }
    relayed_.inc(claimed.size());
    co_await announce(co_await mark_published(claimed));
    co_return claimed.size();
}

net::awaitable<void> event_publisher::run()
{
    last_relay_ = std::chrono::steady_clock::now();
    co_await loop_.run([this] { return publish_pass(); });
}

net::awaitable<bool> event_publisher::publish_pass()
{
    std::vector<stored_event> batch;
    {
        std::lock_guard lock(mutex_);
        while (!pending_.empty() && batch.size() < relay_batch) {
            batch.push_back(std::move(pending_.front()));
            pending_.pop_front();
        }
    }
    if (!batch.empty() && !backlog_) {
        try {
            co_await publish(batch);
            published_.inc(batch.size());
            auto through = co_await mark_published(batch);
            co_await announce(through);
        } catch (const common::redis::error& e) {
            // They stay unpublished in PostgreSQL; the relay takes over, in seq order.
            common::log::warn("events.publish_failed", {{"events", batch.size()}, {"error", e.what()}});
            backlog_ = true;
            backlog_gauge_.set(1);
        } catch (const std::exception& e) {
            // Published, not marked: the relay may publish them again, which readers tolerate.
            common::log::warn("events.mark_failed", {{"events", batch.size()}, {"error", e.what()}});
        }
        co_return true;
    }
    // Relay: at once while draining a backlog, otherwise every few seconds for stragglers (events
    // committed by an instance that stopped before publishing them).
    auto now = std::chrono::steady_clock::now();
    if (backlog_ || now - last_relay_ >= std::chrono::seconds(1)) {
        last_relay_ = now;
        try {
            auto n = co_await relay_once(backlog_);
            if (n > 0)
                common::log::info("events.relayed", {{"events", n}});
            if (n > 0 && backlog_)
                co_return true;
            if (backlog_ && n == 0) {
                backlog_ = false;
                backlog_gauge_.set(0);
                common::log::info("events.backlog_cleared");
            }
        } catch (const std::exception& e) {
            common::log::debug("events.relay_waiting", {{"error", e.what()}});
        }
    }
    co_return false;
}

void event_publisher::stop()
{
    loop_.stop();
}

} // namespace ingest
