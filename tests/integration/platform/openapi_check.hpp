#pragma once

// What the `openapi` suite holds docs/openapi.yaml against: the routes the services register, read from
// the real app wiring (gateway::app and ingest::app built in this process, not run), and the validator
// tests/openapi/validate.py. A library of its own so that only it sees both services' headers.

#include "support/http_call.hpp"
#include "support/services.hpp"

#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace test {

/** docs/openapi.yaml in the source tree. */
std::string openapi_spec_path();

/**
 * Builds the gateway and webhook-ingest apps from these environments (as start_gateway and start_ingest
 * gave them; MB_LISTEN is ignored, nothing listens) and returns their route tables as JSON lines
 * {"service", "method", "route", "websocket"} for validate.py --routes.
 */
std::string served_routes(std::map<std::string, std::string> gateway_env,
                          std::map<std::string, std::string> ingest_env);

/** One route a service registers: its method, its pattern ("/v1/homes/{homeId}"), and whether it upgrades. */
struct served_route
{
    std::string method;
    std::string pattern;
    bool websocket = false;
};

/** The gateway's route table, built from this environment as served_routes builds it. */
std::vector<served_route> gateway_routes(std::map<std::string, std::string> gateway_env);

/** What validate.py answered: its exit code (-1 when it did not finish within a minute) and its output. */
struct validation
{
    int exit_code = -1;
    std::string output;
};

/** Runs /usr/bin/python3 tests/openapi/validate.py <spec> <args...> (Debian's python3-yaml, python3-jsonschema). */
validation run_openapi_validator(const std::vector<std::string>& args);

/**
 * Calls services and writes each exchange as a JSON line {"service", "method", "route", "target",
 * "status", "contentType", "body"} for validate.py --exchanges. `route` is the template the call is
 * meant for ("/v1/homes/{homeId}"); the validator checks that `target` matches it. Every call states
 * the statuses it expects, so the log holds the exchanges the test meant to make (a failure names the
 * call). One thread; the file is flushed after each line.
 */
class exchange_log
{
public:
    explicit exchange_log(std::string path);

    const std::string& path() const { return path_; }
    std::size_t size() const { return count_; }

    /** Sends the request to `s` (Authorization: Bearer `token` when given) and records the answer. */
    http_result call(const running_service& s, const std::string& service, http::verb method, const std::string& route,
                     const std::string& target, std::initializer_list<unsigned> expected, const std::string& token = {},
                     std::string body = {}, header_list headers = {});

    /** Records an answer obtained some other way (a signed webhook, a WebSocket handshake) and checks it. */
    void record(const std::string& service, http::verb method, const std::string& route, const std::string& target,
                const http_result& r, std::initializer_list<unsigned> expected);

private:
    std::string path_;
    std::ofstream out_;
    std::size_t count_ = 0;
};

} // namespace test
