#include "support/resuming_client.hpp"

#include "support/ws_client.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>

namespace test {

resuming_client::resuming_client(std::vector<unsigned short> ports, std::string token, resuming_options o)
    : ports_(std::move(ports))
    , token_(std::move(token))
    , options_(o)
    , rng_(o.seed)
{
    thread_ = std::thread([this] { run(); });
}

resuming_client::~resuming_client()
{
    stop();
}

void resuming_client::stop()
{
    stop_ = true;
    if (thread_.joinable())
        thread_.join();
}

std::optional<std::int64_t> resuming_client::start() const
{
    std::lock_guard lock(mutex_);
    return start_;
}

std::vector<std::int64_t> resuming_client::received() const
{
    std::lock_guard lock(mutex_);
    return received_;
}

std::vector<std::uint16_t> resuming_client::server_closes() const
{
    std::lock_guard lock(mutex_);
    return server_closes_;
}

std::string resuming_client::failure() const
{
    std::lock_guard lock(mutex_);
    return failure_;
}

void resuming_client::run()
{
    std::optional<std::int64_t> after;
    std::size_t port = 0;
    while (!stop_) {
        std::unique_ptr<ws_client> ws;
        try {
            ws = std::make_unique<ws_client>(ports_[port],
                                             after ? "/v1/events?after=" + std::to_string(*after) : std::string("/v1/events"),
                                             header_list{{"Authorization", "Bearer " + token_}});
        } catch (const std::exception&) {
            port = (port + 1) % ports_.size(); // refused: the next gateway, as a load balancer would
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        ++connections_;
        std::int64_t last = after.value_or(-1);
        int budget = options_.random_drops ? std::uniform_int_distribution<int>(3, 40)(rng_)
                                           : std::numeric_limits<int>::max();
        while (!stop_ && budget > 0) {
            auto m = ws->read(std::chrono::milliseconds(200));
            if (!m) {
                if (!ws->is_open())
                    break;
                continue;
            }
            auto v = boost::json::parse(*m).as_object();
            auto type = v.at("type").as_string();
            std::lock_guard lock(mutex_);
            if (type == "ready") {
                auto seq = v.at("lastSeq").as_int64();
                if (!start_)
                    start_ = seq;
                after = std::max(after.value_or(0), seq);
            } else if (type == "event") {
                auto seq = v.at("seq").as_int64();
                if (seq <= last && failure_.empty())
                    failure_ = "seq " + std::to_string(seq) + " after " + std::to_string(last) + " on one connection";
                last = seq;
                received_.push_back(seq);
                after = std::max(after.value_or(0), seq);
                --budget;
            }
        }
        if (!ws->is_open()) {
            if (auto code = ws->closed_with()) {
                std::lock_guard lock(mutex_);
                server_closes_.push_back(*code);
            }
            continue;
        }
        // Our own drop: half the time politely, half the time by dropping the connection.
        if (std::uniform_int_distribution<int>(0, 1)(rng_) == 0) {
            try {
                ws->close();
            } catch (const std::exception&) {
            }
        }
    }
}

} // namespace test
