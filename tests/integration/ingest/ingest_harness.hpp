#pragma once

// webhook-ingest through its real HTTP path, PostgreSQL and Redis: what the ingest_* test files share.
#include "support/account_flow.hpp"
#include "support/http_call.hpp"
#include "support/services.hpp"
#include "support/slow_sender.hpp"
#include "support/stack.hpp"
#include "support/tcp_relay.hpp"
#include "support/wait.hpp"
#include "support/webhook.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <set>
#include <thread>

using namespace common::aliases;

namespace ingest_harness {

inline const std::string& hook_url = test::webhook_url;
inline const std::string& hook_key = test::webhook_key;

inline std::string event_body(std::int64_t home, const std::string& type, int n = 0)
{
    return json::serialize(json::object{{"homeId", home},
                                        {"timestamp", "2026-11-25T10:00:00.000Z"},
                                        {"eventType", type},
                                        {"eventData", {{"n", n}}},
                                        {"originDeviceId", 260},
                                        {"originDeviceClass", "thermostat"}});
}

inline test::http_result post_event(const test::running_service& ingest, const std::string& body,
                             const std::string& key = hook_key, const std::string& url = hook_url)
{
    return test::post_signed_event(ingest, body, key, url, {{"X-Mode-ModuleID", "webhooks"}, {"X-Mode-ProjectID", "1"}});
}

inline int stored(const std::string& db_url, const std::string& where = "true")
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    return tx.exec("SELECT count(*) FROM events WHERE " + where)[0][0].as<int>();
}

using test::expect_problem;

// A Redis subscriber in a child process: every message on `pattern` ends up in its output.
inline test::process subscribe(const std::string& pattern)
{
    test::process::options o;
    o.argv = {"redis-cli", "-u", test::redis_url(), "--raw", "PSUBSCRIBE", pattern};
    test::process p(std::move(o));
    BOOST_REQUIRE(p.wait_for_output("psubscribe", std::chrono::seconds(10)));
    return p;
}

} // namespace ingest_harness

using namespace ingest_harness;
