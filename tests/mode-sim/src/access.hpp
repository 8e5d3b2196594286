#pragma once

// MODE's authorization rules, as pure functions over the caller and the object (unit-tested without
// HTTP). Each `require_*` returns normally or throws `sim_error`. The choices, used consistently:
//
// - A key of a kind the endpoint never accepts (a user key on POST /users, a device key on /homes, a
//   project key on /userSession) → 403 INSUFFICIENT_AUTH.
// - The right kind of key without the right to this object: a project key without the BYOU permission on
//   a BYOU call, a project key of another project, a user key on another user, a device key on another
//   device, a member (not owner) doing an owner's action → 403 PERMISSION_DENIED.
// - A user key on a home (or on a device in a home) the user is not a member of → 403 MEMBERS_ONLY; a
//   home or device that does not exist, or a device in no home (nobody's but the project's) → 404.

#include "model.hpp"

namespace modesim {

/** How the caller relates to a home. */
enum class home_access { none, member, owner, project };

home_access access_to(const principal& p, const home& h);

void require_project(const principal& p);
/** A project key with the "Can Handle BYOU" permission. */
void require_byou_project(const principal& p);
void require_user(const principal& p);
void require_device(const principal& p);
void require_user_or_project(const principal& p);
/** A body's `projectId` must be the caller's project. */
void require_same_project(const principal& p, std::int64_t project_id);
/** The user themselves (user key) or the project (project key). */
void require_self_or_project(const principal& p, object_id user_id);
/** The device's own key. */
void require_device_self(const principal& p, object_id device_id);

/** A member of `h` (any role) or the project. Device keys: INSUFFICIENT_AUTH. */
void require_home_member(const principal& p, const home& h);
/** An owner of `h` or the project. */
void require_home_owner(const principal& p, const home& h);

} // namespace modesim
