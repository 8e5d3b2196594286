// The authorization matrix (issue #14): every route of the gateway × every kind of caller → the answer the
// contract gives (docs/api.md, "Who may do what"), through the real gateway and the MODE emulator. A route
// the gateway serves without a row here, or a row naming a route it does not serve, fails the test.
#include "integration/platform/openapi_check.hpp"
#include "support/principals.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

using namespace common::aliases;
using test::principal;

namespace {

// An answer as the matrix writes it: the status, then the problem's `code` when the answer is a problem.
const std::string unauthenticated = "401 UNAUTHENTICATED";
const std::string members_only = "403 MODE_MEMBERS_ONLY";       // MODE: not a member of this home
const std::string owners_only = "403 MODE_PERMISSION_DENIED";   // MODE: a member, not an owner
const std::string no_such = "404 NOT_FOUND";
constexpr std::size_t columns = 8; // test::principals::all(), in its order

// What the rows use: the fixture, the callers, and the objects the routes name.
struct world
{
    test::mode_fixture& f;
    const test::principals& p;
    std::int64_t home = 0;        // a shared_home: every home and device route names it
    std::int64_t doomed_home = 0; // another shared_home, for DELETE /v1/homes/{homeId}
    std::int64_t device = 0;      // in `home`, connected, so that commands reach it
    std::int64_t victim = 0;      // MODE id of a member of `home`, for DELETE .../members/{userId}
    std::string spare_session;    // a session of the owner's, for DELETE /v1/me/sessions/{id}

    std::string home_path(std::int64_t h) const { return "/v1/homes/" + std::to_string(h); }
    std::string device_path(std::int64_t d) const { return "/v1/devices/" + std::to_string(d); }

    // A device claimed into `home` by the owner (for a removal that must find one in every cell).
    std::int64_t claimed_device()
    {
        auto d = f.claimable_device();
        auto r = f.call(http::verb::post, home_path(home) + "/devices", p.owner.token,
                        json::serialize(json::object{{"claimCode", d.claim_code}}));
        BOOST_TEST_REQUIRE(r.status == 201U, r);
        return d.id;
    }
};

// One cell's request; `token` replaces the caller's own when set.
struct request
{
    std::string target;
    std::string body;
    std::optional<std::string> token;
};

struct row
{
    http::verb method;
    std::string route; // the router's pattern
    std::function<request(world&, const principal&)> make; // called once per cell
    std::array<std::string, columns> expect;
    bool is_public = false; // one answer, whoever calls: a token neither helps nor hurts
    std::function<std::string(world&, const test::http_result&)> look = {}; // more than the status, when set
};

// Rows of the authenticated routes: the three callers without a usable token get 401 UNAUTHENTICATED.
std::array<std::string, columns> signed_in(std::string stranger, std::string removed, std::string member, std::string owner)
{
    return {unauthenticated, unauthenticated, unauthenticated, stranger, removed, removed, member, owner};
}
std::array<std::string, columns> everyone(const std::string& a)
{
    std::array<std::string, columns> out;
    out.fill(a);
    return out;
}

std::function<request(world&, const principal&)> fixed(std::string target, json::object body = {})
{
    auto text = body.empty() ? std::string() : json::serialize(body);
    return [target = std::move(target), text](world&, const principal&) { return request{target, text, {}}; };
}

std::function<request(world&, const principal&)> on_home(std::string tail, json::object body = {})
{
    auto text = body.empty() ? std::string() : json::serialize(body);
    return [tail = std::move(tail), text](world& w, const principal&) { return request{w.home_path(w.home) + tail, text, {}}; };
}

std::function<request(world&, const principal&)> on_device(std::string tail, json::object body = {})
{
    auto text = body.empty() ? std::string() : json::serialize(body);
    return [tail = std::move(tail), text](world& w, const principal&) { return request{w.device_path(w.device) + tail, text, {}}; };
}

std::string with_email(const std::string& who)
{
    return json::serialize(json::object{{"email", test::unique_email(who)}});
}

// Whether a list of homes holds the shared one.
std::string lists_home(world& w, const test::http_result& r)
{
    if (r.status != 200U)
        return "";
    auto homes = r.json();
    for (const auto& h : homes.as_array())
        if (h.at("id").as_int64() == w.home)
            return " +home";
    return " -home";
}

std::vector<row> matrix()
{
    const auto pw = test::good_password;
    return {
        // Public: accounts and sign-in, and the operators' probes.
        {http::verb::post, "/v1/auth/register", fixed("/v1/auth/register", {{"email", "not-an-email"}, {"password", pw}, {"name", "N"}}),
         everyone("400 INVALID_EMAIL"), true},
        {http::verb::post, "/v1/auth/verify-email", fixed("/v1/auth/verify-email", {{"token", "no-such-token"}}),
         everyone("400 INVALID_TOKEN"), true},
        {http::verb::post, "/v1/auth/resend-verification",
         [](world&, const principal&) { return request{"/v1/auth/resend-verification", with_email("nobody"), {}}; },
         everyone("202"), true},
        {http::verb::post, "/v1/auth/login", fixed("/v1/auth/login", {{"email", "someone@example.com"}}),
         everyone("400 INVALID_REQUEST"), true},
        {http::verb::post, "/v1/auth/forgot-password",
         [](world&, const principal&) { return request{"/v1/auth/forgot-password", with_email("nobody"), {}}; },
         everyone("202"), true},
        {http::verb::post, "/v1/auth/reset-password", fixed("/v1/auth/reset-password", {{"token", "no-such-token"}, {"password", pw}}),
         everyone("400 INVALID_TOKEN"), true},
        {http::verb::post, "/v1/auth/accept-invite", fixed("/v1/auth/accept-invite", {{"token", "no-such-token"}, {"password", pw}}),
         everyone("400 INVALID_TOKEN"), true},
        {http::verb::get, "/healthz", fixed("/healthz"), everyone("200"), true},
        {http::verb::get, "/readyz", fixed("/readyz"), everyone("200"), true},
        {http::verb::get, "/metrics", fixed("/metrics"), everyone("200"), true},

        // The caller's own account: any signed-in user, on their own sessions only.
        {http::verb::post, "/v1/auth/logout",
         [](world& w, const principal& who) {
             request r{"/v1/auth/logout", "", {}};
             if (!who.token.empty() && &who != &w.p.revoked) // a session of its own, not the one the matrix uses
                 r.token = test::another_session(w.f, who.email).first;
             return r;
         },
         signed_in("204", "204", "204", "204")},
        {http::verb::get, "/v1/me", fixed("/v1/me"), signed_in("200", "200", "200", "200")},
        {http::verb::get, "/v1/me/sessions", fixed("/v1/me/sessions"), signed_in("200", "200", "200", "200")},
        {http::verb::delete_, "/v1/me/sessions/{id}",
         [](world& w, const principal&) { return request{"/v1/me/sessions/" + w.spare_session, "", {}}; },
         signed_in(no_such, no_such, no_such, "204")},
        {http::verb::post, "/v1/invitations/accept", fixed("/v1/invitations/accept", {{"token", "no-such-token"}}),
         signed_in("400 INVALID_TOKEN", "400 INVALID_TOKEN", "400 INVALID_TOKEN", "400 INVALID_TOKEN")},

        // Homes: MODE says who is a member and who an owner, with the caller's own key.
        {http::verb::get, "/v1/homes", fixed("/v1/homes"), signed_in("200 -home", "200 -home", "200 +home", "200 +home"), false,
         lists_home},
        {http::verb::post, "/v1/homes", fixed("/v1/homes", {{"name", "Own home"}}), signed_in("201", "201", "201", "201")},
        {http::verb::get, "/v1/homes/{homeId}", on_home(""), signed_in(members_only, members_only, "200", "200")},
        {http::verb::patch, "/v1/homes/{homeId}", on_home("", {{"name", "Renamed"}}),
         signed_in(members_only, members_only, owners_only, "200")},
        {http::verb::delete_, "/v1/homes/{homeId}",
         [](world& w, const principal&) { return request{w.home_path(w.doomed_home), "", {}}; },
         signed_in(members_only, members_only, owners_only, "204")},
        {http::verb::get, "/v1/homes/{homeId}/members", on_home("/members"), signed_in(members_only, members_only, "200", "200")},
        {http::verb::post, "/v1/homes/{homeId}/members",
         [](world& w, const principal&) { return request{w.home_path(w.home) + "/members", with_email("invitee"), {}}; },
         signed_in(members_only, members_only, owners_only, "201")},
        {http::verb::delete_, "/v1/homes/{homeId}/members/{userId}",
         [](world& w, const principal&) {
             return request{w.home_path(w.home) + "/members/" + std::to_string(w.victim), "", {}};
         },
         signed_in(members_only, members_only, owners_only, "204")},
        {http::verb::get, "/v1/homes/{homeId}/events", on_home("/events"), signed_in(no_such, no_such, "200", "200")},

        // Devices: any member of the device's home.
        {http::verb::get, "/v1/homes/{homeId}/devices", on_home("/devices"), signed_in(members_only, members_only, "200", "200")},
        {http::verb::post, "/v1/homes/{homeId}/devices",
         [](world& w, const principal&) {
             auto d = w.f.claimable_device();
             return request{w.home_path(w.home) + "/devices", json::serialize(json::object{{"claimCode", d.claim_code}}), {}};
         },
         signed_in(members_only, members_only, "201", "201")},
        {http::verb::get, "/v1/devices/{deviceId}", on_device(""), signed_in(members_only, members_only, "200", "200")},
        {http::verb::patch, "/v1/devices/{deviceId}", on_device("", {{"name", "Hall"}}),
         signed_in(members_only, members_only, "200", "200")},
        {http::verb::delete_, "/v1/devices/{deviceId}",
         [](world& w, const principal&) { return request{w.device_path(w.claimed_device()), "", {}}; },
         signed_in(members_only, members_only, "204", "204")},
        {http::verb::put, "/v1/devices/{deviceId}/command", on_device("/command", {{"action", "on"}, {"parameters", json::object{}}}),
         signed_in(members_only, members_only, "202", "202")},

        // The live stream: the upgrade, then the close (4001) or the `ready` naming the homes it follows.
        {http::verb::get, "/v1/events", fixed("/v1/events"),
         {"101 close 4001", "101 close 4001", "101 close 4001", "101 ready -home", "101 ready -home", "101 ready -home",
          "101 ready +home", "101 ready +home"}},
    };
}

// " <code>" of a problem body.
std::string problem_code(const std::string& body)
{
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    const auto* code = !ec && v.is_object() ? v.as_object().if_contains("code") : nullptr;
    return " " + (code != nullptr && code->is_string() ? std::string(code->as_string()) : std::string("(no code)"));
}

std::string answer_of(const test::http_result& r)
{
    auto out = std::to_string(r.status);
    if (r.header("Content-Type") == "application/problem+json")
        out += problem_code(r.body);
    if (r.status == 401U && r.header("WWW-Authenticate").rfind("Bearer", 0) != 0)
        out += " without WWW-Authenticate: Bearer";
    return out;
}

// The live stream's answer: the handshake's status, then how the stream starts.
std::string stream_answer(world& w, const std::string& target, const std::string& token, std::string& detail)
{
    test::header_list headers;
    if (!token.empty())
        headers.emplace_back("Authorization", "Bearer " + token);
    try {
        test::ws_client ws(w.f.gw.port, target, headers);
        for (;;) {
            auto m = ws.read(std::chrono::seconds(5));
            if (!m) {
                if (!ws.is_open())
                    return "101 close " + std::to_string(ws.closed_with().value_or(0));
                return "101 nothing within 5 s";
            }
            detail = *m;
            auto v = json::parse(*m);
            if (v.at("type").as_string() != "ready")
                continue;
            const auto& homes = v.at("homes").as_array();
            bool in = std::any_of(homes.begin(), homes.end(), [&](const json::value& h) { return h.as_int64() == w.home; });
            ws.close();
            return in ? "101 ready +home" : "101 ready -home";
        }
    } catch (const test::ws_handshake_error& e) {
        detail = e.body();
        return std::to_string(e.status()) + problem_code(e.body());
    }
}

std::string pad(const std::string& s, std::size_t n)
{
    return s + std::string(n > s.size() ? n - s.size() : 0, ' ');
}

} // namespace

BOOST_AUTO_TEST_SUITE(authorization_matrix)

BOOST_AUTO_TEST_CASE(every_route_answers_every_kind_of_caller_as_the_contract_says)
{
    auto started = std::chrono::steady_clock::now();
    test::mode_fixture f;
    auto rows = matrix();

    // Every route has a row, and every row a route.
    std::set<std::string> served, listed, upgrades;
    for (const auto& r : test::gateway_routes(f.gw.env)) {
        served.insert(r.method + " " + r.pattern);
        if (r.websocket)
            upgrades.insert(r.pattern);
    }
    for (const auto& r : rows)
        listed.insert(std::string(http::to_string(r.method)) + " " + r.route);
    for (const auto& s : served)
        BOOST_TEST(listed.count(s) == 1U, "the gateway serves " << s << ", which has no row in the authorization matrix");
    for (const auto& s : listed)
        BOOST_TEST(served.count(s) == 1U, "the authorization matrix has a row for " << s << ", which the gateway does not serve");

    test::principals p(f);
    world w{f, p, 0, 0, 0, 0, {}};
    w.home = test::shared_home(f, p, "Shared home");
    w.doomed_home = test::shared_home(f, p, "Doomed home");
    auto victim = test::linked_user(f, "victim");
    test::add_member(f, p.owner.token, w.home, victim.email);
    w.victim = victim.mode_user;
    w.device = w.claimed_device();
    auto on = f.sim_call(http::verb::put, "/_sim/devices/" + std::to_string(w.device) + "/connection",
                         json::serialize(json::object{{"connected", true}}));
    BOOST_TEST_REQUIRE(on.status == 204U, on);
    w.spare_session = test::another_session(f, p.owner.email).second;
    // A removal made in MODE directly reaches the history once the caller's homes are read from MODE again,
    // at most a second later (api.md): the matrix starts once it has (3 s allows for a loaded machine).
    for (auto h : {w.home, w.doomed_home}) {
        auto history = w.home_path(h) + "/events";
        BOOST_TEST_REQUIRE(test::eventually([&] { return f.call(http::verb::get, history, p.removed_in_mode.token).status == 404U; },
                                            std::chrono::seconds(3)),
                           "a member removed in MODE still reads " << history << " after 3 s");
    }
    auto set_up = std::chrono::steady_clock::now();

    auto callers = p.all();
    std::vector<std::array<std::string, columns>> got(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        auto& r = rows[i];
        for (std::size_t c = 0; c < columns; ++c) {
            const auto& who = *callers[c];
            auto req = r.make(w, who);
            auto token = req.token.value_or(who.token);
            std::string detail;
            if (upgrades.count(r.route) != 0U) {
                got[i][c] = stream_answer(w, req.target, token, detail);
            } else {
                auto res = f.call(r.method, req.target, token, req.body);
                got[i][c] = answer_of(res);
                if (r.look)
                    got[i][c] += r.look(w, res);
                detail = res.body.substr(0, 300);
            }
            BOOST_TEST(got[i][c] == r.expect[c], http::to_string(r.method) << " " << r.route << " as " << who.name
                                                                           << ": expected " << r.expect[c] << ", got "
                                                                           << got[i][c] << " (" << req.target << ": "
                                                                           << detail << ")");
        }
    }
    auto done = std::chrono::steady_clock::now();

    // The matrix as it ran; a cell that differs from the contract is marked with '!'.
    std::size_t first = 0;
    std::array<std::size_t, columns> width{};
    for (std::size_t c = 0; c < columns; ++c)
        width[c] = callers[c]->name.size();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        first = std::max(first, std::string(http::to_string(rows[i].method)).size() + 1 + rows[i].route.size());
        if (!rows[i].is_public)
            for (std::size_t c = 0; c < columns; ++c)
                width[c] = std::max(width[c], got[i][c].size() + 1);
    }
    std::ostringstream out;
    out << "authorization matrix (set-up " << std::chrono::duration_cast<std::chrono::milliseconds>(set_up - started).count()
        << " ms, " << rows.size() * columns << " calls " << std::chrono::duration_cast<std::chrono::milliseconds>(done - set_up).count()
        << " ms)\n" << pad("", first);
    for (std::size_t c = 0; c < columns; ++c)
        out << " | " << pad(callers[c]->name, width[c]);
    out << "\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        out << pad(std::string(http::to_string(rows[i].method)) + " " + rows[i].route, first);
        bool same = std::all_of(got[i].begin(), got[i].end(), [&](const std::string& g) { return g == got[i][0]; });
        if (rows[i].is_public && same && got[i] == rows[i].expect) {
            out << " | public: " << got[i][0] << " for every caller\n";
            continue;
        }
        for (std::size_t c = 0; c < columns; ++c)
            out << " | " << pad((got[i][c] == rows[i].expect[c] ? "" : "!") + got[i][c], width[c]);
        out << "\n";
    }
    BOOST_TEST_MESSAGE(out.str());
}

BOOST_AUTO_TEST_SUITE_END()
