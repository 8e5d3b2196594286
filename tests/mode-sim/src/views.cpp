#include "views.hpp"

#include "body.hpp"

namespace modesim {

namespace json = boost::json;

namespace {

void put_time(json::object& o, std::string_view key, const std::optional<time_point>& t)
{
    if (t)
        o[js(key)] = format_time(*t);
}

} // namespace

json::object to_json(const user& u)
{
    json::object o{
        {"id", u.id},
        {"projectId", u.project_id},
        {"creationTime", format_time(u.creation_time)},
        {"name", u.name},
        {"verified", u.verified},
    };
    if (u.external_key)
        o["externalKey"] = *u.external_key;
    return o;
}

json::object to_json(const home& h)
{
    return {
        {"id", h.id},
        {"projectId", h.project_id},
        {"creationTime", format_time(h.creation_time)},
        {"name", h.name},
        {"deactivated", false},
    };
}

json::object to_json(const member_view& m)
{
    return {
        {"userId", m.m.user_id},
        {"creationTime", format_time(m.u.creation_time)},
        {"name", m.u.name},
        {"verified", m.u.verified},
        {"role", js(to_string(m.m.role))},
    };
}

json::object to_json(const device& d)
{
    json::object o{
        {"id", d.id},
        {"projectId", d.project_id},
        {"creationTime", format_time(d.creation_time)},
        {"name", d.name},
        {"tag", d.tag},
        {"deviceClass", d.device_class},
        {"claimCode", d.claim_code},
        {"isConnected", d.connected},
    };
    if (d.home_id)
        o["homeId"] = *d.home_id;
    put_time(o, "claimTime", d.claim_time);
    put_time(o, "claimExpirationTime", d.claim_expiration_time);
    put_time(o, "lastConnectTime", d.last_connect_time);
    put_time(o, "lastDisconnectTime", d.last_disconnect_time);
    return o;
}

json::object to_json(const command& c)
{
    return {{"action", c.action}, {"parameters", c.parameters}};
}

json::object to_json(const event_record& e)
{
    json::object o{
        {"eventType", e.event_type},
        {"eventData", e.event_data},
        {"timestamp", format_time(e.timestamp)},
        {"originDeviceId", e.origin_device_id},
        {"originDeviceClass", e.origin_device_class},
        {"originDeviceIp", e.origin_device_ip},
    };
    if (e.home_id)
        o["homeId"] = *e.home_id;
    return o;
}

json::object to_json(const provisioned_device& d)
{
    return {{"id", d.id}, {"apiKey", d.api_key}, {"claimCode", d.claim_code}};
}

json::object to_json(const issued_key& k)
{
    return {
        {"token", k.token},
        {"userId", k.user_id},
        {"projectId", k.project_id},
        {"creationTime", format_time(k.creation_time)},
    };
}

json::object to_json(const stats& s)
{
    return {
        {"users", s.users},
        {"userKeys", s.user_keys},
        {"homes", s.homes},
        {"devices", s.devices},
        {"commands", s.commands},
        {"events", s.events},
        {"commandChannels", s.command_channels},
        {"eventStreams", s.event_streams},
    };
}

json::object kv_json(const std::string& key, const kv_entry& e)
{
    return {{"key", key}, {"value", e.value}, {"modificationTime", format_time(e.modification_time)}};
}

json::object auth_info(const std::optional<principal>& p)
{
    if (!p)
        return {{"type", "nobody"}};
    switch (p->kind) {
    case key_kind::user:
        return {{"type", "user"}, {"userId", p->user_id}, {"projectId", p->project_id}, {"appId", p->app_id}};
    case key_kind::device:
        return {{"type", "device"}, {"deviceId", p->device_id}, {"projectId", p->project_id}};
    case key_kind::project:
        break;
    }
    return {{"type", "project key"}, {"projectId", p->project_id}, {"projectKeyName", p->key_name}};
}

json::object session_json(const principal& p)
{
    return {
        {"userId", p.user_id},
        {"appId", p.app_id},
        {"projectId", p.project_id},
        {"creationTime", format_time(p.creation_time)},
    };
}

std::string_view to_string(member_role r)
{
    return r == member_role::owner ? "owner" : "member";
}

std::optional<member_role> parse_role(std::string_view s)
{
    if (s == "owner")
        return member_role::owner;
    if (s == "member")
        return member_role::member;
    return std::nullopt;
}

} // namespace modesim
