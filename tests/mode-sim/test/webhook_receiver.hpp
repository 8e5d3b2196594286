#pragma once

// A stand-in for the project's Event Webhook in tests: an HTTP server in-process (127.0.0.1) that records
// every request it gets and answers from a script.

#include "common/net/aliases.hpp"
#include "common/web/server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace modesim_test {

using namespace common::aliases;

/** One request as the receiver got it. */
struct received_request
{
    std::string method;
    std::string target;
    std::string content_type;
    std::string signature;  // X-Mode-Signature
    std::string module_id;  // X-Mode-ModuleID
    std::string project_id; // X-Mode-ProjectID
    std::string body;
    std::chrono::steady_clock::time_point arrived;
};

/** How the receiver answers one request. */
struct reply
{
    unsigned status = 204;
    /** Answer nothing until `release_held` (or the receiver stops), then `status`. */
    bool hold = false;
};

/**
 * The receiver: a common::web::server on its own io_context and thread, on 127.0.0.1 at `port` (0: an
 * ephemeral one). Every request is recorded when it arrives (before it is answered); the answer comes from
 * the responder, by default the script (`answer_with`), then `then`.
 *
 * Thread-safety: every member function may be called from any thread. The destructor releases held
 * requests and stops the server (bounded), then joins its thread.
 */
class webhook_receiver
{
public:
    explicit webhook_receiver(unsigned short port = 0);
    ~webhook_receiver();
    webhook_receiver(const webhook_receiver&) = delete;
    webhook_receiver& operator=(const webhook_receiver&) = delete;

    unsigned short port() const { return port_; }
    /** http://127.0.0.1:<port><path_and_query> */
    std::string url(const std::string& path_and_query = "/hooks/mode") const;

    /** Answers the next requests with `script`, in order, and every later one with `then`. */
    void answer_with(std::vector<reply> script, reply then = {});
    /** Answers every request with what `f` says (it runs on the receiver's thread). */
    void answer_with(std::function<reply(const received_request&)> f);
    /** Answers every held request now. */
    void release_held();

    std::vector<received_request> requests() const;
    std::size_t count() const;
    /** Requests being held (arrived, not answered). */
    std::size_t held() const;

private:
    net::awaitable<common::web::response> handle(common::web::request& req);

    net::io_context ioc_;
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::unique_ptr<common::web::server> server_;
    std::thread thread_;
    unsigned short port_ = 0;

    mutable std::mutex mutex_;
    std::vector<received_request> requests_;
    std::deque<reply> script_;
    reply then_;
    std::function<reply(const received_request&)> responder_;
    std::vector<std::shared_ptr<net::steady_timer>> held_;
};

/** HMAC-SHA256 of `message` keyed with `key`, lowercase hex, computed with OpenSSL directly: a reference
    independent of common::crypto, to check the emulator's signatures against. */
std::string reference_hmac_hex(std::string_view key, std::string_view message);

/**
 * A port for a receiver that is down: bound but not listening, so connections to it are refused and no other
 * test (or process) can take it meanwhile; `release` frees it just before the receiver starts there.
 * Not thread-safe.
 */
class reserved_port
{
public:
    reserved_port();
    unsigned short port() const { return port_; }
    void release();

private:
    net::io_context ioc_;
    net::ip::tcp::acceptor socket_;
    unsigned short port_ = 0;
};

} // namespace modesim_test
