#pragma once

#include "model.hpp"
#include "sink.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace modesim {

struct state_options
{
    std::int64_t project_id = 1;
    std::string byou_key = "sim-project-key";  // the project key with the BYOU permission
    std::string plain_key = "sim-plain-key";   // a project key without it
    std::function<time_point()> clock;         // empty: the system clock (tests inject their own)
    std::size_t max_events = 10'000;           // oldest dropped beyond this (GET /_sim/events)
    std::size_t max_commands_per_device = 1'000;
};

/**
 * The emulated MODE project: users, keys, homes, members, key-value stores, devices, commands and events,
 * all in memory. Every MODE operation takes the caller (`principal`) and enforces MODE's rules itself
 * (access.hpp), throwing `sim_error`; so the HTTP layer only parses and renders, and this class is tested
 * without sockets. Ids come from one counter shared by users, homes and devices (never reused, so an id of
 * the wrong kind is never accidentally valid).
 *
 * Open websockets register here (`open_command_channel`, `open_event_stream`) as weak `frame_sink`s: commands
 * and events are pushed to the sockets registered when they happen. Recipients are chosen under the mutex,
 * frames pushed after it is released.
 *
 * Thread-safety: every member function may be called from any thread; one mutex guards everything. The
 * event listener and the sinks are called outside the lock, on the caller's thread.
 */
class state
{
public:
    using event_listener = std::function<void(const event_record&)>;

    explicit state(state_options opts);

    std::int64_t project_id() const noexcept { return opts_.project_id; }

    // Keys.
    std::optional<principal> find_key(std::string_view token) const;
    /** An `Authorization` header value → the caller. 401 AUTHORIZATION_REQUIRED when it is missing or not
        `ModeCloud <token>`; 401 UNAUTHENTICATED_CLIENT when the token is unknown or revoked. */
    principal authenticate(std::string_view authorization) const;

    // Users (BYOU).
    user create_user(const principal& p, std::int64_t project_id, std::string name,
                     std::optional<std::string> external_key);
    user get_user(const principal& p, object_id id) const;
    /** Removes the user, their keys and their memberships (homes stay, even without an owner). */
    void delete_user(const principal& p, object_id id);
    issued_key issue_user_key(const principal& p, std::int64_t project_id, object_id user_id, std::string app_id);
    /** DELETE /userSession: the caller's own user key stops working. */
    void revoke_key(const principal& p);

    // Homes and members.
    page<home> list_homes(const principal& p, std::optional<object_id> user_id, paging pg) const;
    home create_home(const principal& p, std::string name);
    home get_home(const principal& p, object_id id) const;
    /** PATCH /homes/{h}: owners and the project; an empty patch still checks the right to make it. */
    void update_home(const principal& p, object_id id, std::optional<std::string> name);
    /** Deletes the home; its devices leave it (they stay provisioned). */
    void delete_home(const principal& p, object_id id);
    page<member_view> list_members(const principal& p, object_id home_id, paging pg) const;
    member_view add_member(const principal& p, object_id home_id, object_id user_id, member_role role);
    void set_member_role(const principal& p, object_id home_id, object_id user_id, member_role role);
    void remove_member(const principal& p, object_id home_id, object_id user_id);

    // Home key-value store.
    std::vector<std::pair<std::string, kv_entry>> list_kv(const principal& p, object_id home_id) const;
    kv_entry get_kv(const principal& p, object_id home_id, const std::string& key) const;
    void put_kv(const principal& p, object_id home_id, const std::string& key, boost::json::value value);
    void delete_kv(const principal& p, object_id home_id, const std::string& key);

    // Devices.
    provisioned_device provision_device(std::string device_class, std::string name, std::string tag);
    page<device> list_devices(const principal& p, std::optional<object_id> home_id, paging pg) const;
    device claim_device(const principal& p, object_id home_id, std::string_view claim_code);
    device get_device(const principal& p, object_id id) const;
    void update_device(const principal& p, object_id id, std::optional<std::string> name,
                       std::optional<std::string> tag);
    /** DELETE /devices/{d}: the device leaves its home. */
    void remove_device(const principal& p, object_id id);
    /** POST /deviceRegistration: enter claim mode for `duration` (or leave it); the new expiration. */
    std::optional<time_point> register_device(const principal& p, bool claimable, std::chrono::seconds duration);
    /** Records the command for the device and sends it to the device's command channels as one text frame
        `{"action", "parameters"}`; 409 DEVICE_OFFLINE while the device is not connected. */
    void send_command(const principal& p, object_id device_id, std::string action, boost::json::object parameters);
    /** Records the event, sends it ("event as delivered") to the event streams of the users who are members of
        the device's home now, then calls the event listener. */
    event_record record_event(const principal& p, object_id device_id, std::string event_type,
                              boost::json::object event_data, std::string origin_ip);

    // Websockets. Each open socket is registered once and unregistered (by the id returned) when it ends.
    /** GET /devices/{d}/command: only the device's own key. The device is connected while it has at least one
        channel (lastConnectTime set when the first opens, lastDisconnectTime when the last closes). */
    std::uint64_t open_command_channel(const principal& p, object_id device_id, std::weak_ptr<frame_sink> sink);
    void close_command_channel(std::uint64_t id);
    /** GET /userSession/websocket: a user key. The stream is ended (1008) when that key stops working. */
    std::uint64_t open_event_stream(const principal& p, std::weak_ptr<frame_sink> sink);
    void close_event_stream(std::uint64_t id);

    // Control surface (/_sim/): no caller, no rules.
    std::vector<command> commands_of(object_id device_id) const;
    void set_connected(object_id device_id, bool connected);
    std::vector<user> users() const;
    std::vector<device> devices() const;
    std::vector<event_record> events() const;
    stats counts() const;
    /** Forgets every user, key (but the project keys), home, device, command and event. */
    void reset();
    /** Users, user and device keys, homes (members, key-value stores), devices and the id counter, as JSON:
        what a restarted emulator needs to keep its project (state_snapshot.cpp). Not commands or events. */
    boost::json::value snapshot() const;
    /** Replaces those parts with a snapshot's; throws when it is not one. Call before serving. */
    void restore(const boost::json::value& snap);
    void set_event_listener(event_listener l);

private:
    time_point now() const;
    object_id next_id() { return ++last_id_; }
    // The *_locked helpers expect mutex_ held; they throw 404 for an unknown id.
    const home& home_locked(object_id id) const;
    home& home_locked(object_id id);
    const device& device_locked(object_id id) const;
    device& device_locked(object_id id);
    const user& user_locked(object_id id) const;
    /** Who may touch device `d`: its home's members and the project (and itself, when `self_ok`). */
    void check_device_locked(const principal& p, const device& d, bool self_ok) const;
    member_view member_view_locked(const membership& m) const;
    void add_project_keys_locked();
    /** Unregisters the event streams opened with a key that matches `gone`; returns their sinks. */
    template <class Pred>
    std::vector<std::weak_ptr<frame_sink>> drop_streams_locked(Pred gone);

    struct command_channel
    {
        object_id device_id = 0;
        std::weak_ptr<frame_sink> sink;
    };
    struct event_stream
    {
        object_id user_id = 0;
        std::string token; // the key it was opened with: revoking the key ends the stream
        std::weak_ptr<frame_sink> sink;
    };

    mutable std::mutex mutex_;
    state_options opts_;
    object_id last_id_ = 0;
    std::map<object_id, user> users_;
    std::map<object_id, home> homes_;
    std::map<object_id, device> devices_;
    std::unordered_map<std::string, principal> keys_; // token → caller: project, user and device keys
    std::map<object_id, std::deque<command>> commands_;
    std::deque<event_record> events_;
    event_listener listener_;
    std::uint64_t last_socket_id_ = 0;
    std::map<std::uint64_t, command_channel> command_channels_;
    std::map<std::uint64_t, event_stream> event_streams_;
};

} // namespace modesim
