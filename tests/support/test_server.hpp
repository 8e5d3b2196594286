#pragma once

// A common::web::server run in-process for tests of the server itself and of what runs on it.

#include "common/metrics.hpp"
#include "common/net/aliases.hpp"
#include "common/web/router.hpp"
#include "common/web/server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>

namespace test {

using namespace common::aliases;

/**
 * A common::web::server on 127.0.0.1 at an ephemeral port, serving `routes` with `metrics`, run by one
 * background thread. Add routes before start().
 *
 * Lifetime: stop() (or the destructor) stops the io_context and joins the thread, so no test can hang
 * on it. A class that derives from this one and keeps state its handlers use must call stop() in its
 * own destructor, so that the server's thread has ended before that state goes.
 *
 * Thread-safety: use from the test's thread; the server runs on its own.
 */
class test_server
{
public:
    test_server();
    ~test_server();
    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;

    /** Listens and starts the thread; throws when it cannot listen. */
    void start(common::web::server_options opts = {});
    /** Stops the io_context and joins the thread; does nothing the second time. */
    void stop();

    unsigned short port() const { return srv_->local_endpoint().port(); }
    /** The server, once started. */
    common::web::server& server() { return *srv_; }

    /** Starts a graceful shutdown on the server's io_context; the future is ready when it completes. */
    std::future<void> begin_shutdown(std::chrono::milliseconds grace);

    common::web::router routes;
    std::shared_ptr<common::metrics::registry> metrics = std::make_shared<common::metrics::registry>();

private:
    net::io_context ioc_;
    net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
    std::optional<common::web::server> srv_;
    std::thread thread_;
};

} // namespace test
