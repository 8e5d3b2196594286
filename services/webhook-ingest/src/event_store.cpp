#include "event_store.hpp"

#include "common/db/pg_array.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <pqxx/result>
#include <pqxx/transaction>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace ingest {

namespace {

// The advisory lock every writer takes around a batch ("mbevents").
constexpr long long writer_lock_key = 0x6d626576656e7473LL;

} // namespace

struct event_store::waiter
{
    waiter(incoming_event ev, net::any_io_executor ex)
        : event(std::move(ev))
        , done(std::move(ex), std::chrono::steady_clock::time_point::max())
    {
    }
    incoming_event event;
    net::steady_timer done; // on the caller's executor; cancelled when the outcome is known
    std::atomic<bool> finished{false};
    std::int64_t seq = 0;
    std::exception_ptr error;
};

event_store::event_store(net::any_io_executor strand, common::db::pg_pool& db, common::metrics::registry& m,
                         std::size_t max_batch)
    : db_(db)
    , max_batch_(max_batch)
    // Idle until `store` queues an event; passes catch their own failures.
    , loop_(std::move(strand), "events.writer", common::background_loop::until_woken,
            common::backoff(std::chrono::seconds(1), std::chrono::seconds(1), common::jitter::none))
    , stored_(m.counter_for("mb_events_stored_total", "Events committed"))
    , duplicates_(m.counter_for("mb_events_duplicate_total", "Deliveries of events already stored"))
    , batch_sizes_(m.histogram_for("mb_event_batch_size", "Events per commit", {},
                                   {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}))
{
}

std::vector<std::pair<std::string, std::string>> event_store::statements()
{
    return {
        {"events_lock", "SELECT pg_advisory_xact_lock($1)"},
        // seq is drawn in batch order, inside the lock; duplicates (by body hash) are skipped.
        {"events_insert",
         "INSERT INTO events (seq, body_hash, home_id, event_type, payload) "
         "SELECT nextval('events_seq'), h, hid, t, p FROM ("
         " SELECT h, hid, t, p FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY "
         " AS x(h, hid, t, p, n) ORDER BY n) AS ordered "
         "ON CONFLICT (body_hash) DO NOTHING RETURNING seq, body_hash"},
        {"events_seq_of", "SELECT body_hash, seq FROM events WHERE body_hash = ANY($1::text[])"},
    };
}

net::awaitable<std::int64_t> event_store::store(incoming_event e)
{
    auto w = std::make_shared<waiter>(std::move(e), co_await net::this_coro::executor);
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(w);
    }
    // Wake the writer if it is idle; a busy writer looks at the queue again when its commit is done.
    loop_.wake();
    // The writer cancels the wait when the outcome is known. The short expiry only matters if that
    // happened before the wait began (possible when the caller's executor is not a strand).
    while (!w->finished.load()) {
        w->done.expires_after(std::chrono::milliseconds(50));
        co_await w->done.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (w->error)
        std::rethrow_exception(w->error);
    co_return w->seq;
}

std::vector<std::shared_ptr<event_store::waiter>> event_store::take_batch()
{
    std::lock_guard lock(mutex_);
    if (queue_.size() <= max_batch_)
        return std::exchange(queue_, {});
    std::vector<std::shared_ptr<waiter>> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_));
    return batch;
}

void event_store::finish(std::vector<std::shared_ptr<waiter>>& batch)
{
    for (auto& w : batch) {
        w->finished.store(true);
        net::post(w->done.get_executor(), [w] { w->done.cancel(); });
    }
}

net::awaitable<void> event_store::run()
{
    co_await loop_.run([this] { return store_pass(); });
}

net::awaitable<bool> event_store::store_pass()
{
    auto batch = take_batch();
    if (batch.empty())
        co_return false;
    std::vector<stored_event> fresh;
    try {
        auto job = [&](pqxx::connection& c) {
            using common::db::text_array;
            auto hash_list = text_array(batch, [](const auto& w) -> const std::string& { return w->event.body_hash; });
            auto home_list = common::db::int_array(batch, [](const auto& w) { return w->event.home_id; });
            auto types = text_array(batch, [](const auto& w) -> const std::string& { return w->event.event_type; });
            auto payloads = text_array(batch, [](const auto& w) -> const std::string& { return w->event.payload; });
            pqxx::work tx(c);
            tx.exec_prepared("events_lock", writer_lock_key);
            auto inserted = tx.exec_prepared("events_insert", hash_list, home_list, types, payloads);
            std::unordered_map<std::string, std::int64_t> seqs;
            std::unordered_set<std::string> fresh_hashes;
            for (const auto& r : inserted) {
                seqs.emplace(r[1].as<std::string>(), r[0].as<std::int64_t>());
                fresh_hashes.insert(r[1].as<std::string>());
            }
            if (seqs.size() < batch.size()) // duplicates: answer with the seq of the first delivery
                for (const auto& r : tx.exec_prepared("events_seq_of", hash_list))
                    seqs.emplace(r[0].as<std::string>(), r[1].as<std::int64_t>());
            tx.commit();
            return std::make_pair(std::move(seqs), std::move(fresh_hashes));
        };
        auto [seqs, fresh_hashes] = co_await db_.run(job);
        for (auto& w : batch) {
            auto it = seqs.find(w->event.body_hash);
            w->seq = it == seqs.end() ? 0 : it->second;
            // The new ones, each once (a batch may hold the same delivery twice).
            if (fresh_hashes.erase(w->event.body_hash) != 0)
                fresh.push_back(stored_event{w->seq, w->event.home_id, w->event.payload});
        }
        std::sort(fresh.begin(), fresh.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
        auto fresh_count = fresh.size();
        stored_.inc(fresh_count);
        duplicates_.inc(batch.size() - fresh_count);
        batch_sizes_.observe(static_cast<double>(batch.size()));
    } catch (const std::exception& e) {
        auto error = std::current_exception();
        common::log::warn("events.store_failed", {{"events", batch.size()}, {"error", e.what()}});
        for (auto& w : batch)
            w->error = error;
    }
    finish(batch);
    if (!fresh.empty() && committed_)
        committed_(std::move(fresh));
    co_return true;
}

void event_store::stop()
{
    loop_.stop();
}

} // namespace ingest
