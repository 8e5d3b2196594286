#include "homes/homes.hpp"

#include "accounts/validation.hpp"
#include "homes/event_history_store.hpp"
#include "homes/membership_store.hpp"
#include "live/home_directory.hpp"
#include "live/notices.hpp"
#include "mode/mode_access.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/mode/event.hpp"
#include "common/web/problem.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace gateway::homes {

using common::web::problem;
namespace web = common::web;

namespace {

std::vector<std::int64_t> ids_of(const json::value& list)
{
    std::vector<std::int64_t> out;
    if (!list.is_array())
        return out;
    for (const auto& v : list.as_array())
        if (const auto* o = v.if_object())
            if (const auto* id = o->if_contains("id"); id != nullptr && id->is_int64())
                out.push_back(id->get_int64());
    return out;
}

std::vector<std::pair<std::int64_t, std::string>> member_roles(const json::value& list)
{
    std::vector<std::pair<std::int64_t, std::string>> out;
    if (!list.is_array())
        return out;
    for (const auto& v : list.as_array()) {
        const auto* o = v.if_object();
        if (o == nullptr)
            continue;
        const auto* id = o->if_contains("userId");
        const auto* role = o->if_contains("role");
        if (id != nullptr && id->is_int64())
            out.emplace_back(id->get_int64(),
                             role != nullptr && role->is_string() ? std::string(role->get_string()) : "member");
    }
    return out;
}

// The member list as api.md shows it: MODE's list joined with our users.
json::array members_json(const json::value& list, const std::vector<known_member>& ours)
{
    json::array out;
    if (!list.is_array())
        return out;
    for (const auto& v : list.as_array()) {
        const auto* o = v.if_object();
        if (o == nullptr)
            continue;
        json::object m;
        m["userId"] = o->contains("userId") ? o->at("userId") : json::value(nullptr);
        m["role"] = o->contains("role") ? o->at("role") : json::value("member");
        m["name"] = o->contains("name") ? o->at("name") : json::value("");
        m["email"] = nullptr;
        if (const auto* id = o->if_contains("userId"); id != nullptr && id->is_int64())
            for (const auto& k : ours)
                if (k.mode_user_id == id->get_int64()) {
                    m["name"] = k.name;
                    m["email"] = k.email;
                }
        out.push_back(std::move(m));
    }
    return out;
}

std::string home_path(std::int64_t id)
{
    return "/homes/" + std::to_string(id);
}

/**
 * A removal (of a member, of a home) in the order that keeps it safe when a step fails: MODE first (it
 * decides); then the live streams of every instance are told, also when MODE's answer was lost on the
 * way (a timeout or outage may hide a removal that happened: narrowing a stream is always safe, and its
 * next MODE read restores what was not removed); then our record, whose failure does not undo what MODE
 * did (the record is a copy, set right by the next read from MODE).
 */
template <class ModeStep, class TellStep, class RecordStep>
net::awaitable<void> removal(ModeStep mode_step, TellStep tell, RecordStep record)
{
    std::optional<problem> failed;
    try {
        co_await mode_step();
    } catch (const problem& p) {
        if (static_cast<unsigned>(p.status()) < 500)
            throw; // MODE refused: nothing changed
        failed = p;
    }
    co_await tell();
    if (failed)
        throw *failed;
    try {
        co_await record();
    } catch (const common::unavailable_error& e) {
        common::log::warn("homes.record_failed", {{"code", e.code()}, {"error", e.what()}});
    }
}

} // namespace

std::string validate_home_name(std::string_view raw)
{
    auto n = utf8_length(raw);
    if (n == 0 || n > 100)
        throw web::bad_request("INVALID_REQUEST", "name: must be 1 to 100 characters");
    reject_control_chars(raw, "name"); // it reaches mail headers (invitations) and MODE
    return std::string(raw);
}

net::awaitable<std::string> list_homes(const parts& p, const caller& who, const std::string& paging)
{
    auto path = "/homes?userId=" + std::to_string(p.mode.mode_user_id(who));
    if (!paging.empty()) // one page, as the client asked: passed on as MODE sent it
        co_return co_await p.mode.call_raw(who, http::verb::get, path + paging);
    // Every page: the complete list also says exactly which homes the user is in.
    auto started = home_directory::clock::now();
    auto list = co_await p.mode.list_all(who, path);
    co_await p.directory.note(who, ids_of(list), started);
    co_return json::serialize(list);
}

net::awaitable<json::value> create_home(const parts& p, const caller& who, std::string_view name)
{
    json::value out = json::object{{"name", validate_home_name(name)}};
    auto home = co_await p.mode.call(who, http::verb::post, "/homes", &out);
    if (auto ids = ids_of(json::array{home}); !ids.empty())
        co_await p.members.upsert(ids.front(), who.user.id, "owner");
    co_return home;
}

net::awaitable<json::value> get_home(const parts& p, const caller& who, std::int64_t home_id)
{
    std::optional<problem> refused;
    try {
        co_return co_await p.mode.call(who, http::verb::get, home_path(home_id));
    } catch (const problem& e) {
        auto status = static_cast<unsigned>(e.status());
        if (status != 403 && status != 404)
            throw;
        refused = e;
    }
    // MODE says the user is not (or no longer) in this home.
    co_await p.members.remove(home_id, who.user.id);
    throw *refused;
}

net::awaitable<json::value> rename_home(const parts& p, const caller& who, std::int64_t home_id,
                                        std::optional<std::string_view> name)
{
    json::object change;
    if (name)
        change["name"] = validate_home_name(*name);
    json::value out = change;
    co_await p.mode.call(who, http::verb::patch, home_path(home_id), &out);
    co_return co_await p.mode.call(who, http::verb::get, home_path(home_id));
}

net::awaitable<void> delete_home(const parts& p, const caller& who, std::int64_t home_id)
{
    co_await removal(
        [&]() -> net::awaitable<void> { co_await p.mode.call(who, http::verb::delete_, home_path(home_id)); },
        [&]() -> net::awaitable<void> {
            p.directory.forget_home(home_id);
            co_await p.notices.home_deleted(home_id);
        },
        [&]() -> net::awaitable<void> { co_await p.members.remove_home(home_id); });
}

net::awaitable<json::array> list_members(const parts& p, const caller& who, std::int64_t home_id)
{
    json::value list = co_await p.mode.list_all(who, home_path(home_id) + "/members");
    auto ours = co_await p.members.sync_home(home_id, member_roles(list));
    co_return members_json(list, ours);
}

net::awaitable<void> remove_member(const parts& p, const caller& who, std::int64_t home_id, std::int64_t mode_user_id)
{
    co_await removal(
        [&]() -> net::awaitable<void> {
            co_await p.mode.call(who, http::verb::delete_,
                                 home_path(home_id) + "/members/" + std::to_string(mode_user_id));
        },
        [&]() -> net::awaitable<void> {
            p.directory.forget_home(home_id); // the history must not answer from a list that still holds it
            co_await p.notices.member_removed(home_id, mode_user_id);
        },
        [&]() -> net::awaitable<void> { co_await p.members.remove_mode_user(home_id, mode_user_id); });
}

net::awaitable<std::string> read_history(const parts& p, const caller& who, std::int64_t home_id, std::int64_t after,
                                         int limit)
{
    // Who may read it is what MODE says the caller's homes are (as for the live stream).
    auto list = co_await p.directory.homes(who, home_directory::clock::now() - std::chrono::seconds(1));
    if (!std::binary_search(list.homes.begin(), list.homes.end(), home_id))
        throw web::not_found();
    auto rows = co_await p.history.events(home_id, after, limit);
    std::string out = "{\"events\":[";
    std::int64_t next = after;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i != 0)
            out += ',';
        out += common::mode::live_event_json(rows[i].first, rows[i].second);
        next = rows[i].first;
    }
    out += "],\"next\":" + std::to_string(next) + "}";
    co_return out;
}

} // namespace gateway::homes
