#include "homes/member_flow.hpp"

#include "accounts/abuse_limits.hpp"
#include "accounts/token_store.hpp"
#include "accounts/user_store.hpp"
#include "accounts/validation.hpp"
#include "homes/membership_store.hpp"
#include "mail/mail_outbox.hpp"
#include "mail/mail_templates.hpp"
#include "mail/mail_worker.hpp"
#include "mode/link_store.hpp"
#include "mode/mode_access.hpp"
#include "mode/mode_linker.hpp"
#include "mode/mode_problems.hpp"
#include "settings.hpp"

#include "common/crypto/crypto.hpp"
#include "common/db/pg_pool.hpp"
#include "common/log.hpp"
#include "common/mode/event.hpp"
#include "common/redis/connection.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <pqxx/result>
#include <pqxx/transaction>

namespace gateway {

using common::web::problem;

struct member_flow::invitee
{
    user_record user;
    bool created = false; // invited by this request: it holds the account's link lease
};

namespace {

std::string local_part(const std::string& email)
{
    return email.substr(0, email.find('@'));
}

json::object member_json(std::int64_t mode_user_id, const std::string& role, const user_record& u)
{
    return json::object{{"userId", mode_user_id}, {"role", role}, {"name", u.name}, {"email", u.email}};
}

// The role of `mode_user_id` in a MODE member list, if listed.
std::optional<std::string> role_in(const json::value& members, std::int64_t mode_user_id)
{
    if (!members.is_array())
        return std::nullopt;
    for (const auto& m : members.as_array()) {
        const auto* o = m.if_object();
        if (o == nullptr)
            continue;
        const auto* id = o->if_contains("userId");
        const auto* role = o->if_contains("role");
        if (id != nullptr && id->is_int64() && id->get_int64() == mode_user_id)
            return role != nullptr && role->is_string() ? std::string(role->get_string()) : std::string("member");
    }
    return std::nullopt;
}

} // namespace

net::awaitable<member_flow::invitee> member_flow::find_or_invite(const std::string& email)
{
    co_return co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        if (auto found = user_store::find_by_email(tx, email))
            return invitee{found->first, false};
        // Directly added members are linked right now (the lease is ours); confirm-first invitees only
        // when they accept, so nothing is made in MODE for an invitation that is never taken up.
        auto lease = p_.cfg.member_confirm_first ? std::chrono::milliseconds(0) : mode_linker::lease;
        auto made = user_store::insert(tx, email, local_part(email), "", "invited", lease);
        if (!made) { // created meanwhile by a concurrent request
            auto again = user_store::find_by_email(tx, email);
            tx.commit();
            return invitee{again->first, false};
        }
        tx.commit();
        common::log::info("members.invited_account", {{"user_id", made->id}});
        return invitee{*made, !p_.cfg.member_confirm_first};
    });
}

net::awaitable<std::int64_t> member_flow::mode_user_of(invitee& who)
{
    if (who.user.mode_user_id)
        co_return *who.user.mode_user_id;
    // Link it now. The account's link lease keeps this from racing the background linker.
    std::optional<std::int64_t> known;
    int attempts = 0;
    if (!who.created) {
        auto job = co_await p_.links.claim_user(who.user.id, mode_linker::lease);
        if (!job) {
            // The background linker holds it: its attempt takes moments, so wait for the id briefly.
            net::steady_timer pause(co_await net::this_coro::executor);
            for (int i = 0; i < 20; ++i) {
                pause.expires_after(std::chrono::milliseconds(100));
                co_await pause.async_wait(net::use_awaitable);
                auto fresh = co_await p_.users.find(who.user.id);
                if (fresh && fresh->mode_user_id) {
                    who.user = *fresh;
                    co_return *fresh->mode_user_id;
                }
            }
            throw link_pending("the new member's account is being linked to MODE; try again shortly");
        }
        known = job->mode_user_id;
        attempts = job->attempts;
    }
    auto r = co_await p_.linker.attempt(who.user.id, known, attempts, p_.cfg.mode_link_timeout);
    if (!r.mode_user_id)
        throw link_pending("the new member could not be linked to MODE yet; try again shortly");
    who.user.mode_user_id = r.mode_user_id;
    co_return *r.mode_user_id;
}

net::awaitable<void> member_flow::tell(const caller& owner, std::int64_t home_id, const std::string& home_name,
                                       const invitee& who, const std::string& role)
{
    // Marking and mailing commit together: a member is told exactly once, even across retries.
    bool told = co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        if (tx.exec_prepared("member_notified", home_id, who.user.id).empty())
            return false;
        if (who.user.status == "invited") {
            auto token = tokens::issue(tx, who.user.id, token_purpose::invite, p_.cfg.invite_token_ttl);
            p_.outbox.enqueue(tx, who.user.email, "invite",
                              invitation_mail(owner.user.name, home_name,
                                              token_link(p_.cfg.public_url, "/accept-invite", token),
                                              p_.cfg.invite_token_ttl));
        } else {
            p_.outbox.enqueue(tx, who.user.email, "member_added",
                              member_added_mail(who.user.name, owner.user.name, home_name));
        }
        tx.commit();
        return true;
    });
    if (!told)
        co_return;
    p_.mailer.notify();
    json::object note{{"type", "member.added"},
                      {"homeId", home_id},
                      {"homeName", home_name},
                      {"role", role},
                      {"addedBy", owner.user.name}};
    try {
        co_await p_.redis.command("PUBLISH", common::mode::user_channel(who.user.id), json::serialize(note));
    } catch (const std::exception& e) {
        // The mail is on its way regardless; the live message is a courtesy.
        common::log::warn("members.notify_live", {{"user_id", who.user.id}, {"error", e.what()}});
    }
}

net::awaitable<json::value> member_flow::members_if_owner(const caller& owner, std::int64_t home_id)
{
    // MODE says who is an owner, through the caller's own key (a non-member gets MODE's own refusal).
    auto members = json::value(co_await p_.mode.list_all(owner, "/homes/" + std::to_string(home_id) + "/members"));
    if (role_in(members, p_.mode.mode_user_id(owner)) != std::optional<std::string>("owner"))
        throw problem(http::status::forbidden, "MODE_PERMISSION_DENIED", "only an owner of the home may add members");
    co_return members;
}

net::awaitable<member_result> member_flow::add(const caller& owner, std::int64_t home_id, std::string email,
                                               std::string role)
{
    email = validate_email(email);
    if (role.empty())
        role = "member";
    if (role != "member" && role != "owner")
        throw common::web::bad_request("INVALID_REQUEST", "role: must be member or owner");
    (void)p_.mode.mode_user_id(owner); // the owner's own link must be ready
    // Counted before anything is made: each request may create an account and send a mail.
    co_await enforce_limit(p_.limiter, p_.cfg.invitations_per_user, owner.user.id, true);
    // Nothing is created (account, MODE user, mail) for someone who may not add members.
    auto members = co_await members_if_owner(owner, home_id);
    auto who = co_await find_or_invite(email);
    if (p_.cfg.member_confirm_first)
        co_return co_await invite_to_confirm(owner, home_id, members, std::move(who), role);

    auto mode_id = co_await mode_user_of(who);
    member_result result;
    auto path = "/homes/" + std::to_string(home_id);
    if (auto listed = role_in(members, mode_id)) {
        result.what = member_result::outcome::existing;
        role = *listed;
    } else {
        json::value add_body = json::object{{"userId", mode_id}, {"role", role}};
        try {
            co_await p_.mode.call(owner, http::verb::post, path + "/members", &add_body);
        } catch (const problem& e) {
            if (e.code() != "MODE_MEMBER_EXISTS")
                throw;
            result.what = member_result::outcome::existing; // added meanwhile
        }
        if (result.what == member_result::outcome::existing) {
            auto now_listed = json::value(co_await p_.mode.list_all(owner, path + "/members"));
            role = role_in(now_listed, mode_id).value_or(role);
        }
    }
    co_await p_.members.upsert(home_id, who.user.id, role);
    std::string home_name = "a home";
    try {
        auto home = co_await p_.mode.call(owner, http::verb::get, path);
        if (const auto* n = home.is_object() ? home.as_object().if_contains("name") : nullptr; n && n->is_string())
            home_name = std::string(n->get_string());
    } catch (const problem&) {
        // The membership stands; the mail names the home less precisely.
    }
    co_await tell(owner, home_id, home_name, who, role);
    result.body = member_json(mode_id, role, who.user);
    co_return result;
}

net::awaitable<member_result> member_flow::invite_to_confirm(const caller& owner, std::int64_t home_id,
                                                             const json::value& members, invitee who, std::string role)
{
    auto path = "/homes/" + std::to_string(home_id);
    if (who.user.mode_user_id) {
        if (auto existing = role_in(members, *who.user.mode_user_id)) {
            co_await p_.members.upsert(home_id, who.user.id, *existing);
            co_return member_result{member_result::outcome::existing,
                                    member_json(*who.user.mode_user_id, *existing, who.user)};
        }
    }
    std::string home_name = "a home";
    auto home = co_await p_.mode.call(owner, http::verb::get, path);
    if (const auto* n = home.is_object() ? home.as_object().if_contains("name") : nullptr; n && n->is_string())
        home_name = std::string(n->get_string());

    bool mailed = co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        // A pending invitation is not sent again: the repeat answers with it.
        if (!tx.exec_prepared("invitation_pending", home_id, who.user.id).empty())
            return false;
        std::string token;
        std::string path_for_link;
        if (who.user.status == "invited") {
            // One token for both: accepting the account also accepts the home.
            token = tokens::issue(tx, who.user.id, token_purpose::invite, p_.cfg.invite_token_ttl);
            path_for_link = "/accept-invite";
        } else {
            token = common::crypto::random_token(32);
            path_for_link = "/accept-home-invite";
        }
        tx.exec_prepared("invitation_insert", common::crypto::sha256_hex(token), home_id, who.user.id, owner.user.id,
                         role, static_cast<std::int64_t>(p_.cfg.invite_token_ttl.count()));
        p_.outbox.enqueue(tx, who.user.email, "home_invite",
                          invitation_mail(owner.user.name, home_name,
                                          token_link(p_.cfg.public_url, path_for_link, token), p_.cfg.invite_token_ttl));
        tx.commit();
        return true;
    });
    if (mailed)
        p_.mailer.notify();
    co_return member_result{member_result::outcome::pending, json::object{{"status", "pending"},
                                                                           {"homeId", home_id},
                                                                           {"email", who.user.email},
                                                                           {"role", role}}};
}

net::awaitable<bool> member_flow::still_owner(std::int64_t home_id, const std::optional<std::string>& inviter_id)
{
    if (!inviter_id)
        co_return false; // the inviter's account is gone
    auto inviter = co_await p_.users.find(*inviter_id);
    if (!inviter || !inviter->mode_user_id)
        co_return false;
    // Read with the project key: the inviter is not here to lend theirs.
    json::value members;
    try {
        members = co_await p_.mode.client().list_all("/homes/" + std::to_string(home_id) + "/members",
                                                     p_.cfg.mode_project_key);
    } catch (const common::mode::error& e) {
        if (e.kind() == common::mode::failure::rejected && e.status() == 404)
            co_return false; // the home is gone
        throw to_problem(e);
    }
    co_return role_in(members, *inviter->mode_user_id) == std::optional<std::string>("owner");
}

net::awaitable<json::object> member_flow::accept(const std::string& token, const std::string& invitee_id)
{
    struct invitation
    {
        std::int64_t home_id = 0;
        std::string role;
        std::optional<std::string> inviter_id;
    };
    auto hash = common::crypto::sha256_hex(token);
    auto found = co_await p_.db.run([&](pqxx::connection& c) -> std::optional<invitation> {
        pqxx::read_transaction tx(c);
        auto r = tx.exec_prepared("invitation_find", hash, invitee_id);
        if (r.empty())
            return std::nullopt;
        invitation inv{r[0][0].as<std::int64_t>(), r[0][1].as<std::string>(), std::nullopt};
        if (!r[0][2].is_null())
            inv.inviter_id = r[0][2].as<std::string>();
        return inv;
    });
    if (!found)
        throw common::web::bad_request("INVALID_TOKEN", "the invitation is unknown, already accepted or expired");
    auto home_id = found->home_id;
    auto role = found->role;
    auto user = co_await p_.users.find(invitee_id);
    if (!user)
        throw common::web::bad_request("INVALID_TOKEN", "the invitation is unknown, already accepted or expired");
    // The invitee's account is theirs either way, so it is linked (if not yet) whatever the answer below.
    invitee who{*user, false};
    auto mode_id = co_await mode_user_of(who);
    // The owner consented when inviting, but only stands for it while still an owner of the home.
    if (!co_await still_owner(home_id, found->inviter_id)) {
        co_await p_.db.run([&](pqxx::connection& c) {
            pqxx::work tx(c);
            tx.exec_prepared("invitation_void", hash);
            tx.commit();
        });
        common::log::info("members.invitation_void", {{"user_id", invitee_id}, {"home_id", home_id}});
        throw problem(http::status::conflict, "INVITATION_VOID",
                      "whoever invited you can no longer add members to this home; ask an owner to invite you again");
    }
    // The membership is made with the project key.
    json::value add_body = json::object{{"userId", mode_id}, {"role", role}};
    try {
        co_await p_.mode.client().call(http::verb::post, "/homes/" + std::to_string(home_id) + "/members",
                                       p_.cfg.mode_project_key, &add_body);
    } catch (const common::mode::error& e) {
        if (e.reason() != "MEMBER_EXISTS")
            throw to_problem(e);
    }
    co_await p_.db.run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec_prepared("invitation_accept", hash);
        tx.exec_prepared("member_upsert", home_id, invitee_id, role);
        tx.exec_prepared("member_notified", home_id, invitee_id);
        tx.commit();
    });
    co_return member_json(mode_id, role, who.user);
}

} // namespace gateway
