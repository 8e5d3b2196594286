#include "homes/membership_store.hpp"

#include "common/db/pg_array.hpp"
#include "common/db/pg_pool.hpp"

#include <pqxx/result>

#include <algorithm>
#include <pqxx/transaction>

namespace gateway {

using common::db::int_array;
using common::db::text_array;

std::vector<std::pair<std::string, std::string>> membership_store::statements()
{
    return {
        {"member_upsert",
         "INSERT INTO home_members (home_id, user_id, role) VALUES ($1, $2::uuid, $3) "
         "ON CONFLICT (home_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()"},
        {"member_remove", "DELETE FROM home_members WHERE home_id = $1 AND user_id = $2::uuid RETURNING user_id::text"},
        {"member_remove_mode_user",
         "DELETE FROM home_members WHERE home_id = $1 AND user_id = (SELECT id FROM users WHERE mode_user_id = $2) "
         "RETURNING user_id::text"},
        {"member_remove_home", "DELETE FROM home_members WHERE home_id = $1 RETURNING user_id::text"},
        {"member_sync_user_delete",
         "DELETE FROM home_members WHERE user_id = $1::uuid AND NOT (home_id = ANY($2::bigint[])) RETURNING home_id"},
        {"member_sync_user_insert",
         "INSERT INTO home_members (home_id, user_id) SELECT h, $1::uuid FROM unnest($2::bigint[]) AS t(h) "
         "ON CONFLICT (home_id, user_id) DO NOTHING RETURNING home_id"},
        {"member_users_of_home", "SELECT user_id::text FROM home_members WHERE home_id = $1"},
        {"member_known_users",
         "SELECT mode_user_id, id::text, name, email FROM users WHERE mode_user_id = ANY($1::bigint[])"},
        {"member_sync_home_delete",
         "DELETE FROM home_members WHERE home_id = $1 AND NOT (user_id = ANY($2::uuid[])) RETURNING user_id::text"},
        {"member_notified",
         "UPDATE home_members SET notified_at = now() WHERE home_id = $1 AND user_id = $2::uuid "
         "AND notified_at IS NULL RETURNING home_id"},
        {"invitation_pending",
         "SELECT 1 FROM home_invitations WHERE home_id = $1 AND invitee_id = $2::uuid AND accepted_at IS NULL "
         "AND expires_at > now()"},
        {"invitation_insert",
         "INSERT INTO home_invitations (token_hash, home_id, invitee_id, inviter_id, role, expires_at) "
         "VALUES ($1, $2, $3::uuid, $4::uuid, $5, now() + $6::bigint * interval '1 millisecond')"},
        {"invitation_find",
         "SELECT home_id, role, inviter_id::text FROM home_invitations WHERE token_hash = $1 AND invitee_id = $2::uuid "
         "AND accepted_at IS NULL AND expires_at > now()"},
        {"invitation_accept", "UPDATE home_invitations SET accepted_at = now() WHERE token_hash = $1"},
        // A void invitation ends now: it cannot be accepted (nor retried) any more.
        {"invitation_void",
         "UPDATE home_invitations SET expires_at = least(expires_at, now()) WHERE token_hash = $1 "
         "AND accepted_at IS NULL"},
        {"member_homes_of", "SELECT home_id FROM home_members WHERE user_id = $1::uuid ORDER BY home_id"},
        {"member_list_read_at",
         "SELECT extract(epoch FROM read_at)::float8 FROM member_lists WHERE user_id = $1::uuid"},
        {"member_list_stamp",
         "INSERT INTO member_lists (user_id, read_at) VALUES ($1::uuid, now()) "
         "ON CONFLICT (user_id) DO UPDATE SET read_at = EXCLUDED.read_at"},
    };
}

net::awaitable<void> membership_store::upsert(std::int64_t home_id, std::string user_id, std::string role)
{
    co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("member_upsert", home_id, user_id, role);
        tx.commit();
    });
    std::vector<std::string> ids{user_id};
    co_await changed(std::move(ids));
}

net::awaitable<void> membership_store::changed(std::vector<std::string> user_ids)
{
    if (notify_ && !user_ids.empty())
        co_await notify_(std::move(user_ids));
}

std::vector<std::string> membership_store::user_ids(const pqxx::result& r)
{
    std::vector<std::string> out;
    for (const auto& row : r)
        out.push_back(row[0].as<std::string>());
    return out;
}

net::awaitable<void> membership_store::remove(std::int64_t home_id, std::string user_id)
{
    auto gone = co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("member_remove", home_id, user_id);
        tx.commit();
        return user_ids(r);
    });
    co_await changed(std::move(gone));
}

net::awaitable<void> membership_store::remove_mode_user(std::int64_t home_id, std::int64_t mode_user_id)
{
    auto gone = co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("member_remove_mode_user", home_id, mode_user_id);
        tx.commit();
        return user_ids(r);
    });
    co_await changed(std::move(gone));
}

net::awaitable<void> membership_store::remove_home(std::int64_t home_id)
{
    auto gone = co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("member_remove_home", home_id);
        tx.commit();
        return user_ids(r);
    });
    co_await changed(std::move(gone));
}

net::awaitable<bool> membership_store::sync_user(std::string user_id, std::vector<std::int64_t> homes, bool stamp)
{
    bool any = co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto removed = tx.exec_prepared("member_sync_user_delete", user_id, int_array(homes));
        auto added = tx.exec_prepared("member_sync_user_insert", user_id, int_array(homes));
        if (stamp)
            tx.exec_prepared("member_list_stamp", user_id);
        tx.commit();
        return !removed.empty() || !added.empty();
    });
    if (any) {
        std::vector<std::string> ids{user_id};
        co_await changed(std::move(ids));
    }
    co_return any;
}

net::awaitable<std::vector<known_member>>
membership_store::sync_home(std::int64_t home_id, std::vector<std::pair<std::int64_t, std::string>> members)
{
    std::vector<std::string> touched;
    auto ours = co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto before = user_ids(tx.exec_prepared("member_users_of_home", home_id));
        std::vector<std::int64_t> mode_ids;
        for (auto& [id, role] : members)
            mode_ids.push_back(id);
        std::vector<known_member> found;
        std::vector<std::string> our_ids;
        for (const auto& r : tx.exec_prepared("member_known_users", int_array(mode_ids))) {
            known_member m{r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                           r[3].as<std::string>()};
            for (auto& [id, role] : members)
                if (id == m.mode_user_id)
                    tx.exec_prepared("member_upsert", home_id, m.user_id, role);
            our_ids.push_back(m.user_id);
            found.push_back(std::move(m));
        }
        touched = user_ids(tx.exec_prepared("member_sync_home_delete", home_id, text_array(our_ids)));
        for (const auto& id : our_ids)
            if (std::find(before.begin(), before.end(), id) == before.end())
                touched.push_back(id);
        tx.commit();
        return found;
    });
    co_await changed(std::move(touched));
    co_return ours;
}

net::awaitable<bool> membership_store::mark_notified(std::int64_t home_id, std::string user_id)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto r = tx.exec_prepared("member_notified", home_id, user_id);
        tx.commit();
        return !r.empty();
    });
}

net::awaitable<membership_store::recorded_list> membership_store::recorded_homes(std::string user_id)
{
    co_return co_await db_.run([&](pqxx::connection& c) {
        pqxx::read_transaction tx(c);
        recorded_list out;
        for (const auto& r : tx.exec_prepared("member_homes_of", user_id))
            out.homes.push_back(r[0].as<std::int64_t>());
        auto at = tx.exec_prepared("member_list_read_at", user_id);
        if (!at.empty()) {
            auto ms = static_cast<std::int64_t>(at[0][0].as<double>() * 1000.0);
            out.read_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
        }
        return out;
    });
}

} // namespace gateway
