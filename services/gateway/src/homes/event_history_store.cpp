#include "homes/event_history_store.hpp"

#include "common/db/pg_array.hpp"
#include "common/db/pg_pool.hpp"

#include <pqxx/result>
#include <pqxx/transaction>

namespace gateway {

std::vector<std::pair<std::string, std::string>> event_history_store::statements()
{
    return {
        {"events_of_home",
         "SELECT seq, payload FROM events WHERE home_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"},
        {"events_of_homes",
         "SELECT seq, payload FROM events WHERE home_id = ANY($1::bigint[]) AND seq > $2 ORDER BY seq LIMIT $3"},
        {"events_last_seq", "SELECT coalesce(max(seq), 0) FROM events"},
    };
}

net::awaitable<std::vector<std::pair<std::int64_t, std::string>>>
event_history_store::events(std::int64_t home_id, std::int64_t after, int limit)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        std::vector<std::pair<std::int64_t, std::string>> out;
        for (const auto& r : tx.exec_prepared("events_of_home", home_id, after, limit))
            out.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::string>());
        return out;
    });
}

net::awaitable<std::vector<std::pair<std::int64_t, std::string>>>
event_history_store::events_of_homes(std::vector<std::int64_t> homes, std::int64_t after, int limit)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        std::vector<std::pair<std::int64_t, std::string>> out;
        for (const auto& r : tx.exec_prepared("events_of_homes", common::db::int_array(homes), after, limit))
            out.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::string>());
        return out;
    });
}

net::awaitable<std::int64_t> event_history_store::last_seq()
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        return tx.exec_prepared1("events_last_seq")[0].as<std::int64_t>();
    });
}

} // namespace gateway
