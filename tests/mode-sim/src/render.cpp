#include "render.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace modesim {

namespace {

constexpr std::string_view json_type = "application/json; charset=utf-8";

} // namespace

response mode_json(const request& req, http::status status, const boost::json::value& body)
{
    response res{status, req.version()};
    res.set(http::field::content_type, json_type);
    res.body() = boost::json::serialize(body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

response mode_empty(const request& req, http::status status)
{
    response res{status, req.version()};
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

response mode_created(const request& req, const boost::json::value& body, std::string_view location)
{
    response res = mode_json(req, http::status::created, body);
    res.set(http::field::location, location);
    return res;
}

response mode_error(unsigned version, bool keep_alive, const sim_error& e)
{
    boost::json::object body{{"reason", e.reason()}};
    if (!e.data().empty())
        body["data"] = e.data();
    response res{e.status(), version};
    res.set(http::field::content_type, json_type);
    res.body() = boost::json::serialize(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

void add_cors_headers(response& res)
{
    res.set(http::field::access_control_allow_origin, "*");
    res.set(http::field::access_control_allow_credentials, "false");
    res.set(http::field::access_control_expose_headers, "X-Xsrf-Guard");
}

std::string range_header(std::size_t skip, std::size_t count, std::size_t total)
{
    if (count == 0)
        return fmt::format("*/{}", total);
    return fmt::format("{}-{}/{}", skip, skip + count - 1, total);
}

} // namespace modesim
