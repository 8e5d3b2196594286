// state: construction, keys, users and the control surface. Homes are in state_homes.cpp, devices in
// state_devices.cpp.

#include "state.hpp"

#include "access.hpp"
#include "common/crypto/crypto.hpp"
#include "common/util/strings.hpp"
#include "errors.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace modesim {

std::string format_time(time_point t)
{
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    auto secs = ms / 1000;
    auto frac = ms % 1000;
    if (frac < 0) { // before 1970: floor, not truncation
        frac += 1000;
        --secs;
    }
    auto tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

state::state(state_options opts)
    : opts_(std::move(opts))
{
    std::lock_guard lock(mutex_);
    add_project_keys_locked();
}

void state::add_project_keys_locked()
{
    principal byou;
    byou.kind = key_kind::project;
    byou.token = opts_.byou_key;
    byou.project_id = opts_.project_id;
    byou.byou = true;
    byou.key_name = "sim BYOU key";
    keys_[byou.token] = byou;
    if (!opts_.plain_key.empty() && opts_.plain_key != opts_.byou_key) {
        principal plain = byou;
        plain.token = opts_.plain_key;
        plain.byou = false;
        plain.key_name = "sim plain key";
        keys_[plain.token] = plain;
    }
}

time_point state::now() const
{
    return opts_.clock ? opts_.clock() : std::chrono::system_clock::now();
}

std::optional<principal> state::find_key(std::string_view token) const
{
    std::lock_guard lock(mutex_);
    auto it = keys_.find(std::string(token));
    if (it == keys_.end())
        return std::nullopt;
    return it->second;
}

namespace {

using common::trim;

bool iequals(std::string_view a, std::string_view b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        return lower(x) == lower(y);
    });
}

} // namespace

principal state::authenticate(std::string_view authorization) const
{
    constexpr std::string_view scheme = "ModeCloud";
    auto header = trim(authorization);
    bool has_scheme = header.size() > scheme.size() && iequals(header.substr(0, scheme.size()), scheme) &&
                      (header[scheme.size()] == ' ' || header[scheme.size()] == '\t');
    auto token = has_scheme ? trim(header.substr(scheme.size())) : std::string_view{};
    if (token.empty())
        throw sim_error(http::status::unauthorized, reason::authorization_required);
    auto p = find_key(token);
    if (!p)
        throw sim_error(http::status::unauthorized, reason::unauthenticated_client);
    return *p;
}

const user& state::user_locked(object_id id) const
{
    auto it = users_.find(id);
    if (it == users_.end())
        throw not_found(reason::user_not_found);
    return it->second;
}

user state::create_user(const principal& p, std::int64_t project_id, std::string name,
                        std::optional<std::string> external_key)
{
    require_byou_project(p);
    require_same_project(p, project_id);
    std::lock_guard lock(mutex_);
    user u;
    u.id = next_id();
    u.project_id = project_id;
    u.creation_time = now();
    u.name = std::move(name);
    u.external_key = std::move(external_key);
    users_[u.id] = u;
    return u;
}

user state::get_user(const principal& p, object_id id) const
{
    require_self_or_project(p, id);
    std::lock_guard lock(mutex_);
    return user_locked(id);
}

template <class Pred>
std::vector<std::weak_ptr<frame_sink>> state::drop_streams_locked(Pred gone)
{
    std::vector<std::weak_ptr<frame_sink>> out;
    for (auto it = event_streams_.begin(); it != event_streams_.end();) {
        if (gone(it->second)) {
            out.push_back(it->second.sink);
            it = event_streams_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

void state::delete_user(const principal& p, object_id id)
{
    require_self_or_project(p, id);
    std::vector<std::weak_ptr<frame_sink>> ended;
    {
        std::lock_guard lock(mutex_);
        user_locked(id);
        users_.erase(id);
        std::erase_if(keys_, [id](const auto& kv) { return kv.second.kind == key_kind::user && kv.second.user_id == id; });
        for (auto& [hid, h] : homes_)
            std::erase_if(h.members, [id](const membership& m) { return m.user_id == id; });
        ended = drop_streams_locked([id](const event_stream& e) { return e.user_id == id; });
    }
    // Outside the lock, like every push to a socket: its keys are gone, so are its event streams.
    end_all(ended, close_code::policy_violation, "user deleted");
}

issued_key state::issue_user_key(const principal& p, std::int64_t project_id, object_id user_id, std::string app_id)
{
    require_byou_project(p);
    require_same_project(p, project_id);
    std::lock_guard lock(mutex_);
    user_locked(user_id);
    principal k;
    k.kind = key_kind::user;
    k.token = common::crypto::random_token(24);
    k.project_id = project_id;
    k.user_id = user_id;
    k.app_id = std::move(app_id);
    k.creation_time = now();
    keys_[k.token] = k;
    return {k.token, user_id, project_id, k.creation_time};
}

void state::revoke_key(const principal& p)
{
    require_user(p);
    std::vector<std::weak_ptr<frame_sink>> ended;
    {
        std::lock_guard lock(mutex_);
        keys_.erase(p.token);
        ended = drop_streams_locked([&p](const event_stream& e) { return e.token == p.token; });
    }
    end_all(ended, close_code::policy_violation, "key revoked");
}

std::vector<user> state::users() const
{
    std::lock_guard lock(mutex_);
    std::vector<user> out;
    out.reserve(users_.size());
    for (const auto& [id, u] : users_)
        out.push_back(u);
    return out;
}

std::vector<device> state::devices() const
{
    std::lock_guard lock(mutex_);
    std::vector<device> out;
    out.reserve(devices_.size());
    for (const auto& [id, d] : devices_)
        out.push_back(d);
    return out;
}

std::vector<event_record> state::events() const
{
    std::lock_guard lock(mutex_);
    return {events_.begin(), events_.end()};
}

stats state::counts() const
{
    std::lock_guard lock(mutex_);
    stats s;
    s.users = users_.size();
    s.homes = homes_.size();
    s.devices = devices_.size();
    s.events = events_.size();
    s.command_channels = command_channels_.size();
    s.event_streams = event_streams_.size();
    for (const auto& [token, k] : keys_)
        s.user_keys += k.kind == key_kind::user ? 1U : 0U;
    for (const auto& [id, cmds] : commands_)
        s.commands += cmds.size();
    return s;
}

void state::reset()
{
    std::vector<std::weak_ptr<frame_sink>> ended;
    {
        std::lock_guard lock(mutex_);
        users_.clear();
        homes_.clear();
        devices_.clear();
        keys_.clear();
        commands_.clear();
        events_.clear();
        add_project_keys_locked();
        ended = drop_streams_locked([](const event_stream&) { return true; });
        for (const auto& [id, c] : command_channels_)
            ended.push_back(c.sink);
        command_channels_.clear();
    }
    // Every key is gone: no socket opened with one may stay.
    end_all(ended, close_code::policy_violation, "reset");
}

void state::set_event_listener(event_listener l)
{
    std::lock_guard lock(mutex_);
    listener_ = std::move(l);
}

} // namespace modesim
