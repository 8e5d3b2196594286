#pragma once

namespace common::web {
class router;
}

namespace gateway {
class login_flow;
class member_flow;
class password_reset;
class registration;
class session_auth;
} // namespace gateway

namespace gateway::accounts {

/** What the account routes use; shared and outliving the server. */
struct deps
{
    bool trust_forwarded_for; // MB_TRUST_FORWARDED_FOR: the client address is the last X-Forwarded-For hop
    bool member_confirm_first; // MB_MEMBER_FLOW=confirm-first: accepting the account accepts the home too
    session_auth& auth;
    registration& registrations;
    login_flow& logins;
    password_reset& resets;
    member_flow& add_member;
};

/** The accounts table of api.md: everything under /v1/auth and /v1/me. The routes only adapt HTTP
    (parse, call, render); the jobs are registration's, login_flow's and password_reset's. */
void add_routes(common::web::router& r, deps d);

} // namespace gateway::accounts
