#include "integration/platform/openapi_check.hpp"

#include "support/process.hpp"

// Both services' src directories are on this library's include path, and both have an app.hpp: name
// each by its service (each app.hpp finds its own settings.hpp beside it).
#include "gateway/src/app.hpp"
#include "webhook-ingest/src/app.hpp"

#include "common/crypto/crypto.hpp"
#include "common/web/router.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <optional>

namespace test {

namespace {

common::config::env env_of(std::map<std::string, std::string> vars)
{
    vars["MB_LISTEN"] = "127.0.0.1:0";
    return common::config::env([vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    });
}

std::vector<served_route> routes_of(const common::web::router& r)
{
    std::vector<served_route> out;
    for (const auto& e : r.routes())
        out.push_back({std::string(boost::beast::http::to_string(e.method)), e.pattern, e.websocket});
    return out;
}

void append_routes(std::string& out, const std::string& service, const common::web::router& r)
{
    for (const auto& e : routes_of(r)) {
        boost::json::object line;
        line["service"] = service;
        line["method"] = e.method;
        line["route"] = e.pattern;
        line["websocket"] = e.websocket;
        out += boost::json::serialize(line) + "\n";
    }
}

} // namespace

std::string openapi_spec_path()
{
    return MB_SOURCE_DIR "/docs/openapi.yaml";
}

std::string served_routes(std::map<std::string, std::string> gateway_env, std::map<std::string, std::string> ingest_env)
{
    common::crypto::init();
    std::string out;
    {
        gateway::app gw(gateway::load_settings(env_of(std::move(gateway_env))));
        append_routes(out, "gateway", gw.routes());
    }
    {
        ingest::app in(ingest::load_settings(env_of(std::move(ingest_env))));
        append_routes(out, "webhook-ingest", in.routes());
    }
    return out;
}

std::vector<served_route> gateway_routes(std::map<std::string, std::string> gateway_env)
{
    common::crypto::init();
    gateway::app gw(gateway::load_settings(env_of(std::move(gateway_env))));
    return routes_of(gw.routes());
}

exchange_log::exchange_log(std::string path)
    : path_(std::move(path))
    , out_(path_, std::ios::trunc)
{
    if (!out_)
        throw std::runtime_error("cannot write " + path_);
}

http_result exchange_log::call(const running_service& s, const std::string& service, http::verb method,
                               const std::string& route, const std::string& target, std::initializer_list<unsigned> expected,
                               const std::string& token, std::string body, header_list headers)
{
    if (!token.empty())
        headers.emplace_back("Authorization", "Bearer " + token);
    auto r = http_call(s.port, method, target, std::move(body), std::move(headers));
    record(service, method, route, target, r, expected);
    return r;
}

void exchange_log::record(const std::string& service, http::verb method, const std::string& route,
                          const std::string& target, const http_result& r, std::initializer_list<unsigned> expected)
{
    boost::json::object line;
    line["service"] = service;
    line["method"] = std::string(boost::beast::http::to_string(method));
    line["route"] = route;
    line["target"] = target;
    line["status"] = r.status;
    line["contentType"] = r.header("Content-Type");
    line["body"] = r.body;
    out_ << boost::json::serialize(line) << '\n';
    out_.flush();
    ++count_;
    bool as_expected = std::find(expected.begin(), expected.end(), r.status) != expected.end();
    BOOST_TEST(as_expected, std::string(boost::beast::http::to_string(method)) << " " << target << ": " << r);
}

validation run_openapi_validator(const std::vector<std::string>& args)
{
    process::options o;
    o.argv = {"/usr/bin/python3", MB_SOURCE_DIR "/tests/openapi/validate.py", openapi_spec_path()};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    process p(std::move(o));
    validation v;
    auto code = p.wait(std::chrono::seconds(60));
    v.exit_code = code.value_or(-1);
    v.output = p.output();
    return v;
}

} // namespace test
