#pragma once

// A gateway with the MODE emulator behind it, and what the MODE-action tests do to both.

#include "support/account_flow.hpp"
#include "support/stack.hpp"
#include "support/tcp_relay.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace test {

struct mode_fixture
{
    explicit mode_fixture(std::map<std::string, std::string> extra = {});
    /** With `via_relay`, the gateway reaches the emulator through `relay` (to hold or cut its calls). */
    mode_fixture(std::map<std::string, std::string> extra, bool via_relay);

    scratch_database db;
    running_service sim;
    std::unique_ptr<tcp_relay> relay; // null unless via_relay
    running_service gw;

    /** A verified, linked, logged-in user: {email, session token}. */
    std::pair<std::string, std::string> user(const std::string& who);
    /** The user's MODE user id, as GET /v1/me shows it. */
    std::int64_t mode_id(const std::string& token);

    http_result call(http::verb method, const std::string& path, const std::string& token, std::string body = {});
    /** Creates a home (201 expected) and returns its id. */
    std::int64_t create_home(const std::string& token, const std::string& name = "Beach house");

    /** A device provisioned in the emulator and put in claim mode: {id, apiKey, claimCode}. */
    struct device
    {
        std::int64_t id = 0;
        std::string key, claim_code;
    };
    device claimable_device(const std::string& device_class = "thermostat");

    void add_fault(json::object fault);
    void clear_faults();
    /** Calls the emulator directly. */
    http_result sim_call(http::verb method, const std::string& path, std::string body = {}, header_list headers = {});
    /** Calls MODE with the project key, as the company's own tools (an admin, another app) do. */
    http_result project_call(http::verb method, const std::string& path, std::string body = {});

    /** The user's MODE key as stored (opened with the gateway's MB_SECRET_KEY). */
    std::string stored_mode_key(const std::string& email);
};

/** Whether GET /v1/homes shows `home` to the holder of `token`. */
bool has_home(mode_fixture& f, const std::string& token, std::int64_t home);

/**
 * The home's members as the gateway lists them to `token` and as MODE holds them (read with the project key),
 * as "<userId>:<role>" sorted, plus the count of our membership rows
 * (read first, since the gateway's list brings them in line with MODE's): what a refused change must leave
 * as it was.
 */
std::string members_of(mode_fixture& f, const std::string& token, std::int64_t home);

/** The single integer `sql` (one parameter, `arg`) answers in the database at `db_url`, e.g. a count. */
int db_count(const std::string& db_url, const std::string& sql, const std::string& arg);

} // namespace test
