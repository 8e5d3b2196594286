// state: devices, claiming, commands and events.

#include "access.hpp"
#include "common/crypto/crypto.hpp"
#include "errors.hpp"
#include "state.hpp"
#include "views.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>

namespace modesim {

const device& state::device_locked(object_id id) const
{
    auto it = devices_.find(id);
    if (it == devices_.end())
        throw not_found(reason::device_not_found);
    return it->second;
}

device& state::device_locked(object_id id)
{
    return const_cast<device&>(std::as_const(*this).device_locked(id));
}

void state::check_device_locked(const principal& p, const device& d, bool self_ok) const
{
    if (p.kind == key_kind::device) {
        if (!self_ok)
            throw forbidden(reason::insufficient_auth);
        if (p.device_id != d.id)
            throw forbidden(reason::permission_denied);
        return;
    }
    require_user_or_project(p);
    if (p.kind == key_kind::project) {
        if (p.project_id != d.project_id)
            throw not_found(reason::device_not_found);
        return;
    }
    // A device in no home belongs to nobody but the project: not accessible to users.
    if (!d.home_id)
        throw not_found(reason::device_not_found);
    require_home_member(p, home_locked(*d.home_id));
}

provisioned_device state::provision_device(std::string device_class, std::string name, std::string tag)
{
    std::lock_guard lock(mutex_);
    device d;
    d.id = next_id();
    d.project_id = opts_.project_id;
    d.creation_time = now();
    d.name = std::move(name);
    d.tag = std::move(tag);
    d.device_class = std::move(device_class);
    d.api_key = common::crypto::random_token(24);
    // Claim codes are what a user types: short, upper-case hex, unique in the project.
    for (;;) {
        std::string code = common::crypto::hex_encode(common::crypto::random_bytes(4));
        std::transform(code.begin(), code.end(), code.begin(),
                       [](char c) { return c >= 'a' && c <= 'f' ? static_cast<char>(c - 32) : c; });
        bool taken = std::any_of(devices_.begin(), devices_.end(), [&](const auto& e) { return e.second.claim_code == code; });
        if (!taken) {
            d.claim_code = std::move(code);
            break;
        }
    }
    principal k;
    k.kind = key_kind::device;
    k.token = d.api_key;
    k.project_id = d.project_id;
    k.device_id = d.id;
    keys_[k.token] = k;
    devices_[d.id] = d;
    return {d.id, d.api_key, d.claim_code};
}

page<device> state::list_devices(const principal& p, std::optional<object_id> home_id, paging pg) const
{
    require_user_or_project(p);
    if (p.kind == key_kind::user && !home_id)
        throw invalid_input("homeId", "REQUIRED");
    std::lock_guard lock(mutex_);
    if (home_id)
        require_home_member(p, home_locked(*home_id));
    std::vector<device> all;
    for (const auto& [id, d] : devices_)
        if (home_id ? d.home_id == home_id : d.project_id == p.project_id)
            all.push_back(d);
    return make_page(std::move(all), pg);
}

device state::claim_device(const principal& p, object_id home_id, std::string_view claim_code)
{
    require_user(p);
    std::lock_guard lock(mutex_);
    require_home_member(p, home_locked(home_id));
    auto it = std::find_if(devices_.begin(), devices_.end(), [&](const auto& e) {
        return e.second.project_id == p.project_id && e.second.claim_code == claim_code;
    });
    if (it == devices_.end())
        throw forbidden(reason::device_not_claimable);
    device& d = it->second;
    if (d.home_id)
        throw conflict(reason::device_already_in_home);
    auto t = now();
    if (!d.claim_expiration_time || *d.claim_expiration_time <= t)
        throw forbidden(reason::device_not_claimable);
    d.home_id = home_id;
    d.claim_time = t;
    d.claim_expiration_time.reset(); // claimed: out of claim mode until it registers again
    return d;
}

device state::get_device(const principal& p, object_id id) const
{
    if (p.kind == key_kind::device)
        require_device_self(p, id);
    else
        require_user_or_project(p);
    std::lock_guard lock(mutex_);
    const device& d = device_locked(id);
    check_device_locked(p, d, true);
    return d;
}

void state::update_device(const principal& p, object_id id, std::optional<std::string> name,
                          std::optional<std::string> tag)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    device& d = device_locked(id);
    check_device_locked(p, d, false);
    if (name)
        d.name = std::move(*name);
    if (tag)
        d.tag = std::move(*tag);
}

void state::remove_device(const principal& p, object_id id)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    device& d = device_locked(id);
    check_device_locked(p, d, false);
    d.home_id.reset();
    d.claim_time.reset();
}

std::optional<time_point> state::register_device(const principal& p, bool claimable, std::chrono::seconds duration)
{
    require_device(p);
    std::lock_guard lock(mutex_);
    device& d = device_locked(p.device_id);
    if (claimable)
        d.claim_expiration_time = now() + duration;
    else
        d.claim_expiration_time.reset();
    return d.claim_expiration_time;
}

void state::send_command(const principal& p, object_id device_id, std::string action, boost::json::object parameters)
{
    require_user_or_project(p);
    command sent;
    std::vector<std::weak_ptr<frame_sink>> channels;
    {
        std::lock_guard lock(mutex_);
        const device& d = device_locked(device_id);
        check_device_locked(p, d, false);
        if (!d.connected)
            throw conflict(reason::device_offline);
        auto& log = commands_[device_id];
        log.push_back({std::move(action), std::move(parameters), now()});
        while (log.size() > opts_.max_commands_per_device)
            log.pop_front();
        sent = log.back();
        for (const auto& [id, c] : command_channels_)
            if (c.device_id == device_id)
                channels.push_back(c.sink);
    }
    // To every command channel of the device, outside the lock. A device marked connected by the /_sim/ hook
    // but without a channel gets nothing: the command is only recorded.
    push_all(channels, std::make_shared<const std::string>(boost::json::serialize(to_json(sent))));
}

event_record state::record_event(const principal& p, object_id device_id, std::string event_type,
                                 boost::json::object event_data, std::string origin_ip)
{
    require_device_self(p, device_id);
    event_listener listener;
    event_record e;
    std::vector<std::weak_ptr<frame_sink>> streams;
    {
        std::lock_guard lock(mutex_);
        const device& d = device_locked(device_id);
        e.event_type = std::move(event_type);
        e.event_data = std::move(event_data);
        e.timestamp = now();
        e.home_id = d.home_id;
        e.origin_device_id = d.id;
        e.origin_device_class = d.device_class;
        e.origin_device_ip = std::move(origin_ip);
        events_.push_back(e);
        while (events_.size() > opts_.max_events)
            events_.pop_front();
        listener = listener_;
        // The app event streams of the home's members at emission time (a device in no home reaches nobody).
        if (auto h = e.home_id ? homes_.find(*e.home_id) : homes_.end(); h != homes_.end()) {
            std::set<object_id> members;
            for (const auto& m : h->second.members)
                members.insert(m.user_id);
            for (const auto& [id, s] : event_streams_)
                if (members.count(s.user_id) != 0)
                    streams.push_back(s.sink);
        }
    }
    // Delivery (app websockets, webhook) happens outside the lock: it may be slow or re-enter the state.
    if (!streams.empty())
        push_all(streams, std::make_shared<const std::string>(boost::json::serialize(to_json(e))));
    if (listener)
        listener(e);
    return e;
}

std::vector<command> state::commands_of(object_id device_id) const
{
    std::lock_guard lock(mutex_);
    device_locked(device_id);
    auto it = commands_.find(device_id);
    if (it == commands_.end())
        return {};
    return {it->second.begin(), it->second.end()};
}

void state::set_connected(object_id device_id, bool connected)
{
    std::lock_guard lock(mutex_);
    device& d = device_locked(device_id);
    if (d.connected == connected)
        return;
    d.connected = connected;
    (connected ? d.last_connect_time : d.last_disconnect_time) = now();
}

} // namespace modesim
