// state: the snapshot that lets a restarted emulator keep its project (MODESIM_STATE_FILE), as MODE keeps its
// data across its own restarts. It holds users, user and device keys, homes with their members and key-value
// stores, devices, and the id counter; not commands, events or open sockets (those end with the process).

#include "state.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value_to.hpp>

namespace modesim {

namespace json = boost::json;

namespace {

std::int64_t ms_of(time_point t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

time_point time_of(const json::value& v)
{
    return time_point(std::chrono::milliseconds(v.as_int64()));
}

json::value optional_time(const std::optional<time_point>& t)
{
    return t ? json::value(ms_of(*t)) : json::value(nullptr);
}

std::optional<time_point> optional_time_of(const json::value& v)
{
    if (v.is_null())
        return std::nullopt;
    return time_of(v);
}

json::object user_to_json(const user& u)
{
    json::object o;
    o["id"] = u.id;
    o["projectId"] = u.project_id;
    o["creationTime"] = ms_of(u.creation_time);
    o["name"] = u.name;
    o["externalKey"] = u.external_key ? json::value(*u.external_key) : json::value(nullptr);
    o["verified"] = u.verified;
    return o;
}

user user_from_json(const json::object& o)
{
    user u;
    u.id = o.at("id").as_int64();
    u.project_id = o.at("projectId").as_int64();
    u.creation_time = time_of(o.at("creationTime"));
    u.name = json::value_to<std::string>(o.at("name"));
    if (!o.at("externalKey").is_null())
        u.external_key = json::value_to<std::string>(o.at("externalKey"));
    u.verified = o.at("verified").as_bool();
    return u;
}

json::object home_to_json(const home& h)
{
    json::object o;
    o["id"] = h.id;
    o["projectId"] = h.project_id;
    o["creationTime"] = ms_of(h.creation_time);
    o["name"] = h.name;
    json::array members;
    for (const auto& m : h.members) {
        json::object mo;
        mo["userId"] = m.user_id;
        mo["owner"] = m.role == member_role::owner;
        members.push_back(std::move(mo));
    }
    o["members"] = std::move(members);
    json::object kv;
    for (const auto& [key, entry] : h.kv) {
        json::object e;
        e["value"] = entry.value;
        e["modificationTime"] = ms_of(entry.modification_time);
        kv[key] = std::move(e);
    }
    o["kv"] = std::move(kv);
    return o;
}

home home_from_json(const json::object& o)
{
    home h;
    h.id = o.at("id").as_int64();
    h.project_id = o.at("projectId").as_int64();
    h.creation_time = time_of(o.at("creationTime"));
    h.name = json::value_to<std::string>(o.at("name"));
    for (const auto& mv : o.at("members").as_array()) {
        const auto& mo = mv.as_object();
        h.members.push_back({mo.at("userId").as_int64(), mo.at("owner").as_bool() ? member_role::owner : member_role::member});
    }
    for (const auto& [key, ev] : o.at("kv").as_object())
        h.kv[std::string(key)] = kv_entry{ev.at("value"), time_of(ev.at("modificationTime"))};
    return h;
}

json::object device_to_json(const device& d)
{
    json::object o;
    o["id"] = d.id;
    o["projectId"] = d.project_id;
    o["creationTime"] = ms_of(d.creation_time);
    o["name"] = d.name;
    o["tag"] = d.tag;
    o["deviceClass"] = d.device_class;
    o["apiKey"] = d.api_key;
    o["claimCode"] = d.claim_code;
    o["homeId"] = d.home_id ? json::value(*d.home_id) : json::value(nullptr);
    o["claimTime"] = optional_time(d.claim_time);
    o["claimExpirationTime"] = optional_time(d.claim_expiration_time);
    o["lastConnectTime"] = optional_time(d.last_connect_time);
    o["lastDisconnectTime"] = optional_time(d.last_disconnect_time);
    return o;
}

device device_from_json(const json::object& o)
{
    device d;
    d.id = o.at("id").as_int64();
    d.project_id = o.at("projectId").as_int64();
    d.creation_time = time_of(o.at("creationTime"));
    d.name = json::value_to<std::string>(o.at("name"));
    d.tag = json::value_to<std::string>(o.at("tag"));
    d.device_class = json::value_to<std::string>(o.at("deviceClass"));
    d.api_key = json::value_to<std::string>(o.at("apiKey"));
    d.claim_code = json::value_to<std::string>(o.at("claimCode"));
    if (!o.at("homeId").is_null())
        d.home_id = o.at("homeId").as_int64();
    d.claim_time = optional_time_of(o.at("claimTime"));
    d.claim_expiration_time = optional_time_of(o.at("claimExpirationTime"));
    d.last_connect_time = optional_time_of(o.at("lastConnectTime"));
    // A device is connected while its command channel is open: none survives a restart.
    d.last_disconnect_time = optional_time_of(o.at("lastDisconnectTime"));
    return d;
}

json::object key_to_json(const principal& p)
{
    json::object o;
    o["kind"] = p.kind == key_kind::user ? "user" : "device";
    o["token"] = p.token;
    o["projectId"] = p.project_id;
    o["userId"] = p.user_id;
    o["appId"] = p.app_id;
    o["creationTime"] = ms_of(p.creation_time);
    o["deviceId"] = p.device_id;
    return o;
}

principal key_from_json(const json::object& o)
{
    principal p;
    p.kind = o.at("kind").as_string() == "user" ? key_kind::user : key_kind::device;
    p.token = json::value_to<std::string>(o.at("token"));
    p.project_id = o.at("projectId").as_int64();
    p.user_id = o.at("userId").as_int64();
    p.app_id = json::value_to<std::string>(o.at("appId"));
    p.creation_time = time_of(o.at("creationTime"));
    p.device_id = o.at("deviceId").as_int64();
    return p;
}

} // namespace

json::value state::snapshot() const
{
    std::lock_guard lock(mutex_);
    json::object o;
    o["lastId"] = last_id_;
    json::array users;
    for (const auto& [id, u] : users_)
        users.push_back(user_to_json(u));
    o["users"] = std::move(users);
    json::array homes;
    for (const auto& [id, h] : homes_)
        homes.push_back(home_to_json(h));
    o["homes"] = std::move(homes);
    json::array devices;
    for (const auto& [id, d] : devices_)
        devices.push_back(device_to_json(d));
    o["devices"] = std::move(devices);
    json::array keys;
    for (const auto& [token, p] : keys_)
        if (p.kind != key_kind::project) // the project keys come from the settings
            keys.push_back(key_to_json(p));
    o["keys"] = std::move(keys);
    return o;
}

void state::restore(const json::value& snap)
{
    const auto& o = snap.as_object();
    std::lock_guard lock(mutex_);
    last_id_ = o.at("lastId").as_int64();
    users_.clear();
    homes_.clear();
    devices_.clear();
    keys_.clear();
    add_project_keys_locked();
    for (const auto& v : o.at("users").as_array()) {
        auto u = user_from_json(v.as_object());
        users_[u.id] = std::move(u);
    }
    for (const auto& v : o.at("homes").as_array()) {
        auto h = home_from_json(v.as_object());
        homes_[h.id] = std::move(h);
    }
    for (const auto& v : o.at("devices").as_array()) {
        auto d = device_from_json(v.as_object());
        devices_[d.id] = std::move(d);
    }
    for (const auto& v : o.at("keys").as_array()) {
        auto p = key_from_json(v.as_object());
        keys_[p.token] = std::move(p);
    }
}

} // namespace modesim
