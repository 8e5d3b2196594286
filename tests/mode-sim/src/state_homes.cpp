// state: homes, members and the home key-value store.

#include "access.hpp"
#include "errors.hpp"
#include "state.hpp"

#include <algorithm>

namespace modesim {

namespace {

bool is_member(const home& h, object_id user_id)
{
    return std::any_of(h.members.begin(), h.members.end(), [&](const membership& m) { return m.user_id == user_id; });
}

std::size_t owner_count(const home& h)
{
    return static_cast<std::size_t>(
        std::count_if(h.members.begin(), h.members.end(), [](const membership& m) { return m.role == member_role::owner; })
    );
}

membership& find_member(home& h, object_id user_id)
{
    auto it = std::find_if(h.members.begin(), h.members.end(), [&](const membership& m) { return m.user_id == user_id; });
    if (it == h.members.end())
        throw not_found(reason::member_not_found);
    return *it;
}

} // namespace

const home& state::home_locked(object_id id) const
{
    auto it = homes_.find(id);
    if (it == homes_.end())
        throw not_found(reason::home_not_found);
    return it->second;
}

home& state::home_locked(object_id id)
{
    return const_cast<home&>(std::as_const(*this).home_locked(id));
}

member_view state::member_view_locked(const membership& m) const
{
    member_view v{m, {}};
    if (auto it = users_.find(m.user_id); it != users_.end())
        v.u = it->second;
    else
        v.u.id = m.user_id;
    return v;
}

page<home> state::list_homes(const principal& p, std::optional<object_id> user_id, paging pg) const
{
    require_user_or_project(p);
    if (p.kind == key_kind::user) {
        if (user_id && *user_id != p.user_id)
            throw forbidden(reason::permission_denied);
        user_id = p.user_id;
    }
    std::lock_guard lock(mutex_);
    if (user_id)
        user_locked(*user_id);
    std::vector<home> all;
    for (const auto& [id, h] : homes_)
        if (h.project_id == p.project_id && (!user_id || is_member(h, *user_id)))
            all.push_back(h);
    return make_page(std::move(all), pg);
}

home state::create_home(const principal& p, std::string name)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    home h;
    h.id = next_id();
    h.project_id = p.project_id;
    h.creation_time = now();
    h.name = std::move(name);
    // A user creates their own home; the project creates an empty one and adds members later.
    if (p.kind == key_kind::user)
        h.members.push_back({p.user_id, member_role::owner});
    homes_[h.id] = h;
    return h;
}

home state::get_home(const principal& p, object_id id) const
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    const home& h = home_locked(id);
    require_home_member(p, h);
    return h;
}

void state::update_home(const principal& p, object_id id, std::optional<std::string> name)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    home& h = home_locked(id);
    require_home_owner(p, h);
    if (name)
        h.name = std::move(*name);
}

void state::delete_home(const principal& p, object_id id)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    require_home_owner(p, home_locked(id));
    for (auto& [did, d] : devices_)
        if (d.home_id == id) {
            d.home_id.reset();
            d.claim_time.reset();
        }
    homes_.erase(id);
}

page<member_view> state::list_members(const principal& p, object_id home_id, paging pg) const
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    const home& h = home_locked(home_id);
    require_home_member(p, h);
    std::vector<member_view> all;
    all.reserve(h.members.size());
    for (const auto& m : h.members)
        all.push_back(member_view_locked(m));
    return make_page(std::move(all), pg);
}

member_view state::add_member(const principal& p, object_id home_id, object_id user_id, member_role role)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    home& h = home_locked(home_id);
    require_home_owner(p, h);
    const user& u = user_locked(user_id);
    if (u.project_id != h.project_id)
        throw not_found(reason::user_not_found);
    if (is_member(h, user_id))
        throw conflict(reason::member_exists);
    h.members.push_back({user_id, role});
    return member_view_locked(h.members.back());
}

void state::set_member_role(const principal& p, object_id home_id, object_id user_id, member_role role)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    home& h = home_locked(home_id);
    require_home_owner(p, h);
    membership& m = find_member(h, user_id);
    if (m.role == member_role::owner && role != member_role::owner && owner_count(h) == 1)
        throw conflict(reason::last_owner);
    m.role = role;
}

void state::remove_member(const principal& p, object_id home_id, object_id user_id)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    home& h = home_locked(home_id);
    // A member may leave on their own; removing someone else takes an owner (or the project).
    if (p.kind == key_kind::user && p.user_id == user_id)
        require_home_member(p, h);
    else
        require_home_owner(p, h);
    membership& m = find_member(h, user_id);
    if (m.role == member_role::owner && owner_count(h) == 1)
        throw conflict(reason::last_owner);
    std::erase_if(h.members, [&](const membership& x) { return x.user_id == user_id; });
}

std::vector<std::pair<std::string, kv_entry>> state::list_kv(const principal& p, object_id home_id) const
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    const home& h = home_locked(home_id);
    require_home_member(p, h);
    return {h.kv.begin(), h.kv.end()};
}

kv_entry state::get_kv(const principal& p, object_id home_id, const std::string& key) const
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    const home& h = home_locked(home_id);
    require_home_member(p, h);
    auto it = h.kv.find(key);
    if (it == h.kv.end())
        throw not_found(reason::key_not_found);
    return it->second;
}

void state::put_kv(const principal& p, object_id home_id, const std::string& key, boost::json::value value)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    home& h = home_locked(home_id);
    require_home_member(p, h);
    h.kv[key] = kv_entry{std::move(value), now()};
}

void state::delete_kv(const principal& p, object_id home_id, const std::string& key)
{
    require_user_or_project(p);
    std::lock_guard lock(mutex_);
    home& h = home_locked(home_id);
    require_home_member(p, h);
    if (h.kv.erase(key) == 0)
        throw not_found(reason::key_not_found);
}

} // namespace modesim
