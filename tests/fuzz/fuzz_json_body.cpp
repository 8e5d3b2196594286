// The JSON body of every gateway endpoint that takes one, read as its route reads it (the slices'
// routes.cpp): common::web::parse_json_object within the JSON limits, then the members each route takes
// (require_string / optional_string / require_object), then the account rules those members go through
// (accounts/validation). Every refusal must be a `problem` with a stable code, never anything else.
//
// Input: the first byte picks the endpoint, the rest is the body.
#include "accounts/validation.hpp"

#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace common::aliases;
namespace web = common::web;

namespace {

enum rule { none, email, password, name };
struct member
{
    const char* key;
    bool required;
    rule check;
};
struct endpoint
{
    const char* route;
    std::vector<member> members;
};

// What each route reads from its body (services/gateway/src/accounts/routes.cpp, homes/routes.cpp) and
// the rule its domain part applies to it.
const std::vector<endpoint> endpoints = {
    {"POST /v1/auth/register", {{"email", true, email}, {"password", true, password}, {"name", true, name}}},
    {"POST /v1/auth/verify-email", {{"token", true, none}}},
    {"POST /v1/auth/resend-verification", {{"email", true, email}}},
    {"POST /v1/auth/login", {{"deviceToken", false, none}, {"email", true, email}, {"password", true, none}}},
    {"POST /v1/auth/forgot-password", {{"email", true, email}}},
    {"POST /v1/auth/reset-password", {{"token", true, none}, {"password", true, password}}},
    {"POST /v1/auth/accept-invite", {{"name", false, name}, {"token", true, none}, {"password", true, password}}},
    {"POST /v1/homes", {{"name", true, name}}},
    {"PATCH /v1/homes/{homeId}", {{"name", false, name}}},
    {"POST /v1/homes/{homeId}/members", {{"email", true, email}, {"role", false, none}}},
    {"POST /v1/invitations/accept", {{"token", true, none}}},
    {"POST /v1/homes/{homeId}/devices", {{"claimCode", true, none}}},
    {"PATCH /v1/devices/{deviceId}", {{"name", false, name}, {"tag", false, none}}},
    {"PUT /v1/devices/{deviceId}/command", {{"action", true, none}}},
};

void apply(rule r, std::string_view v)
{
    switch (r) {
    case email: {
        auto e = gateway::validate_email(v);
        if (gateway::normalize_email(e).size() != e.size())
            std::abort();
        break;
    }
    case password:
        gateway::validate_password(v);
        break;
    case name: {
        auto n = gateway::validate_name(v);
        if (n.empty() || gateway::utf8_length(n) > 100)
            std::abort();
        break;
    }
    case none:
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const auto& ep = endpoints[data[0] % endpoints.size()];
    web::request req{http::verb::post, "/", 11};
    req.set(http::field::content_type, "application/json");
    req.body().assign(reinterpret_cast<const char*>(data + 1), size - 1);
    req.prepare_payload();
    try {
        auto body = web::parse_json_object(req);
        if (web::contains_nul(body))
            std::abort(); // refused by parse_json_object: PostgreSQL cannot store it
        for (const auto& m : ep.members) {
            std::optional<std::string_view> v =
                m.required ? std::optional<std::string_view>(web::require_string(body, m.key)) : web::optional_string(body, m.key);
            if (v)
                apply(m.check, *v);
        }
        if (std::string_view(ep.route) == "PUT /v1/devices/{deviceId}/command" && body.contains("parameters"))
            (void)web::require_object(body, "parameters");
    } catch (const web::problem& p) {
        // A refusal names its code and is an answer the API describes (4xx).
        auto res = web::make_problem_response(p, 11, false);
        if (p.code().empty() || res.result_int() < 400 || res.result_int() >= 500)
            std::abort();
    }
    return 0;
}
