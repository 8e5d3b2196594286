#include "access.hpp"

#include "errors.hpp"

namespace modesim {

home_access access_to(const principal& p, const home& h)
{
    if (p.kind == key_kind::project)
        return p.project_id == h.project_id ? home_access::project : home_access::none;
    if (p.kind != key_kind::user)
        return home_access::none;
    for (const auto& m : h.members)
        if (m.user_id == p.user_id)
            return m.role == member_role::owner ? home_access::owner : home_access::member;
    return home_access::none;
}

void require_project(const principal& p)
{
    if (p.kind != key_kind::project)
        throw forbidden(reason::insufficient_auth);
}

void require_byou_project(const principal& p)
{
    require_project(p);
    if (!p.byou)
        throw forbidden(reason::permission_denied);
}

void require_user(const principal& p)
{
    if (p.kind != key_kind::user)
        throw forbidden(reason::insufficient_auth);
}

void require_device(const principal& p)
{
    if (p.kind != key_kind::device)
        throw forbidden(reason::insufficient_auth);
}

void require_user_or_project(const principal& p)
{
    if (p.kind != key_kind::user && p.kind != key_kind::project)
        throw forbidden(reason::insufficient_auth);
}

void require_same_project(const principal& p, std::int64_t project_id)
{
    if (p.project_id != project_id)
        throw forbidden(reason::permission_denied);
}

void require_self_or_project(const principal& p, object_id user_id)
{
    require_user_or_project(p);
    if (p.kind == key_kind::user && p.user_id != user_id)
        throw forbidden(reason::permission_denied);
}

void require_device_self(const principal& p, object_id device_id)
{
    require_device(p);
    if (p.device_id != device_id)
        throw forbidden(reason::permission_denied);
}

void require_home_member(const principal& p, const home& h)
{
    require_user_or_project(p);
    if (access_to(p, h) == home_access::none)
        throw forbidden(p.kind == key_kind::user ? reason::members_only : reason::permission_denied);
}

void require_home_owner(const principal& p, const home& h)
{
    require_home_member(p, h);
    if (access_to(p, h) == home_access::member)
        throw forbidden(reason::permission_denied);
}

} // namespace modesim
