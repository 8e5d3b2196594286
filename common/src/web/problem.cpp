#include "common/web/problem.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace common::web {

problem::problem(http::status status, std::string code, std::string detail)
    : std::runtime_error(code)
    , status_(status)
    , code_(std::move(code))
    , detail_(std::move(detail))
{
}

problem& problem::with_header(std::string name, std::string value) &
{
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
}

problem&& problem::with_header(std::string name, std::string value) &&
{
    headers_.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
}

response make_problem_response(const problem& p, unsigned version, bool keep_alive)
{
    response res{p.status(), version};
    json::object body;
    body["type"] = "about:blank";
    auto reason = http::obsolete_reason(p.status());
    body["title"] = json::string_view(reason.data(), reason.size());
    body["status"] = static_cast<unsigned>(p.status());
    body["detail"] = p.detail();
    body["code"] = p.code();
    res.set(http::field::content_type, "application/problem+json");
    for (const auto& [name, value] : p.headers())
        res.set(name, value);
    res.body() = json::serialize(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

problem bad_request(std::string code, std::string detail)
{
    return problem(http::status::bad_request, std::move(code), std::move(detail));
}

problem unauthenticated(std::string detail)
{
    return problem(http::status::unauthorized, "UNAUTHENTICATED", std::move(detail))
        .with_header("WWW-Authenticate", "Bearer");
}

problem not_found(std::string detail)
{
    return problem(http::status::not_found, "NOT_FOUND", std::move(detail));
}

problem service_unavailable(std::string code, std::string detail, int retry_after_seconds)
{
    return problem(http::status::service_unavailable, std::move(code), std::move(detail))
        .with_header("Retry-After", std::to_string(retry_after_seconds));
}

} // namespace common::web
