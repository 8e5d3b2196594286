// state: the open websockets (device command channels and app event streams).

#include "access.hpp"
#include "errors.hpp"
#include "state.hpp"

#include <algorithm>

namespace modesim {

std::uint64_t state::open_command_channel(const principal& p, object_id device_id, std::weak_ptr<frame_sink> sink)
{
    require_device_self(p, device_id);
    std::lock_guard lock(mutex_);
    device& d = device_locked(device_id);
    auto id = ++last_socket_id_;
    command_channels_[id] = {device_id, std::move(sink)};
    if (!d.connected) {
        d.connected = true;
        d.last_connect_time = now();
    }
    return id;
}

void state::close_command_channel(std::uint64_t id)
{
    std::lock_guard lock(mutex_);
    auto it = command_channels_.find(id);
    if (it == command_channels_.end())
        return; // dropped already (/_sim/reset)
    object_id device_id = it->second.device_id;
    command_channels_.erase(it);
    bool more = std::any_of(command_channels_.begin(), command_channels_.end(),
                            [device_id](const auto& c) { return c.second.device_id == device_id; });
    auto d = devices_.find(device_id);
    if (more || d == devices_.end() || !d->second.connected)
        return;
    d->second.connected = false;
    d->second.last_disconnect_time = now();
}

std::uint64_t state::open_event_stream(const principal& p, std::weak_ptr<frame_sink> sink)
{
    require_user(p);
    std::lock_guard lock(mutex_);
    // The key may have been revoked since the caller looked it up: then the stream would never be ended.
    if (keys_.find(p.token) == keys_.end())
        throw sim_error(http::status::unauthorized, reason::unauthenticated_client);
    auto id = ++last_socket_id_;
    event_streams_[id] = {p.user_id, p.token, std::move(sink)};
    return id;
}

void state::close_event_stream(std::uint64_t id)
{
    std::lock_guard lock(mutex_);
    event_streams_.erase(id);
}

} // namespace modesim
