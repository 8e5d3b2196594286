#include "support/test_server.hpp"

#include <boost/asio/co_spawn.hpp>

#include <exception>
#include <utility>

namespace test {

test_server::test_server() = default;

test_server::~test_server()
{
    stop();
}

void test_server::start(common::web::server_options opts)
{
    srv_.emplace(ioc_, net::ip::tcp::endpoint(net::ip::address_v4::loopback(), 0), std::move(opts),
                 routes.as_handler(), metrics);
    srv_->start();
    thread_ = std::thread([this] { ioc_.run(); });
}

void test_server::stop()
{
    ioc_.stop();
    if (thread_.joinable())
        thread_.join();
}

std::future<void> test_server::begin_shutdown(std::chrono::milliseconds grace)
{
    auto done = std::make_shared<std::promise<void>>();
    auto f = done->get_future();
    net::co_spawn(ioc_, srv_->shutdown(grace), [done](std::exception_ptr e) {
        if (e)
            done->set_exception(e);
        else
            done->set_value();
    });
    return f;
}

} // namespace test
