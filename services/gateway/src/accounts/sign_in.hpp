#pragma once

#include "sessions/session_store.hpp"

#include <string>

namespace gateway {

/** Who is asking: for rate limits and the session list. */
struct client_info
{
    std::string ip;
    std::string user_agent;
};

/** A successful sign-in (login, or an accepted invitation): the new session and its account. */
struct sign_in
{
    new_session session;
    user_record user;
    /** For logins: the client's device token (login_guard), to present at its next login. */
    std::string device_token;
};

} // namespace gateway
