#include "support/redis_server.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <utility>

#include <signal.h>

namespace test {

using namespace std::chrono_literals;

redis_server::redis_server(std::vector<std::string> extra_args)
    : port_(free_port())
    , extra_args_(std::move(extra_args))
{
    start();
}

void redis_server::start()
{
    std::vector<std::string> argv{"redis-server", "--port", std::to_string(port_)};
    for (const char* a : {"--bind", "127.0.0.1", "--save", "", "--appendonly", "no"})
        argv.emplace_back(a);
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    proc_.emplace(process::options{argv, {}, {}, {}});
    BOOST_REQUIRE_MESSAGE(wait_for_port(port_, 10s), "redis-server did not start:\n" << proc_->output());
}

void redis_server::kill()
{
    proc_->kill();
    BOOST_REQUIRE(proc_->wait(5s).has_value());
    proc_.reset();
}

void redis_server::signal(int sig)
{
    BOOST_REQUIRE_EQUAL(::kill(proc_->pid(), sig), 0);
}

} // namespace test
