#pragma once

// Test helpers for the emulator: a running emulator in-process (127.0.0.1, ephemeral port) and small
// wrappers over tests/support/http_call.hpp for MODE calls.

#include "app.hpp"
#include "errors.hpp"

#include "support/http_call.hpp"
#include "support/wait.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace modesim_test {

using namespace common::aliases;
using test::eventually;
using test::http_result;

inline constexpr const char* byou_key = "test-byou-key";
inline constexpr const char* plain_key = "test-plain-key";
inline constexpr std::int64_t project_id = 7;

/** Settings for an in-process emulator: 127.0.0.1:0, the keys above, `threads` I/O threads. */
modesim::settings test_settings(std::size_t threads);

/** "<status> <reason>" of a thrown sim_error, or "no error": for checking model errors in one line. */
std::string error_of(const std::function<void()>& f);

/** "<status> <reason>" of an HTTP answer whose body is a MODE error (or "<status>" without a reason). */
std::string error_of(const http_result& r);

/**
 * An emulator running on its own io_context and threads for one test. The destructor shuts it down
 * (bounded) and joins the threads. Not thread-safe itself; `call` may be used from any thread.
 */
class running_sim
{
public:
    explicit running_sim(std::size_t threads = 2);
    /** An emulator with these settings (e.g. test_settings plus a webhook). */
    explicit running_sim(modesim::settings s);
    ~running_sim();
    running_sim(const running_sim&) = delete;
    running_sim& operator=(const running_sim&) = delete;

    unsigned short port() const { return port_; }
    modesim::app& sim() { return *app_; }

    /** A request with `Authorization: ModeCloud <key>` when `key` is not empty. */
    http_result call(http::verb method, const std::string& target, const std::string& body = {},
                     const std::string& key = {}, test::header_list headers = {}) const;
    http_result call(http::verb method, const std::string& target, const boost::json::object& body,
                     const std::string& key) const;

    // Shortcuts that check their own success (and fail the test otherwise).
    std::int64_t create_user(const std::string& name = "someone");
    std::string user_key(std::int64_t user_id);
    std::int64_t create_home(const std::string& user_key, const std::string& name = "home");
    /** POST /_sim/devices: {id, apiKey, claimCode}. */
    boost::json::object provision_device(const std::string& device_class = "lamp");
    /** Registers the device for claiming and claims it into `home_id` with `user_key`. */
    void claim(const boost::json::object& device, std::int64_t home_id, const std::string& user_key);
    /** PUT /devices/{id}/event with the device's own key (`device` as provision_device gave it). */
    void emit_event(const boost::json::object& device, const boost::json::object& event);

private:
    net::io_context ioc_;
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::unique_ptr<modesim::app> app_;
    std::vector<std::thread> threads_;
    unsigned short port_ = 0;
};

/**
 * The cast most HTTP and WebSocket tests start from, on a fresh emulator: users Ann and Bob with their
 * user keys, and Ann's home "Flat", of which Bob is not a member. Tests extend it with what they need.
 */
struct household
{
    running_sim sim;
    std::int64_t ann = sim.create_user("Ann");
    std::int64_t bob = sim.create_user("Bob");
    std::string ann_key = sim.user_key(ann);
    std::string bob_key = sim.user_key(bob);
    std::int64_t home = sim.create_home(ann_key, "Flat");
};

} // namespace modesim_test
