#include "fault_traffic.hpp"

#include "support/webhook.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <deque>
#include <fstream>
#include <sstream>

namespace faults {

using namespace common::aliases;
using namespace std::chrono_literals;

std::int64_t traffic_book::new_event(std::int64_t home)
{
    std::lock_guard lock(mutex_);
    auto n = ++last_n_;
    events_[n] = event_entry{home, phase_.load(), 0, false};
    return n;
}

void traffic_book::attempted(std::int64_t n, bool acked)
{
    std::lock_guard lock(mutex_);
    auto& e = events_.at(n);
    ++e.attempts;
    e.acked = e.acked || acked;
}

std::map<std::int64_t, event_entry> traffic_book::events() const
{
    std::lock_guard lock(mutex_);
    return events_;
}

void traffic_book::count_request(outcome o, double seconds, const std::string& detail)
{
    std::lock_guard lock(mutex_);
    auto& c = requests_[phase_.load()];
    switch (o) {
    case outcome::answered:
        ++c.answered;
        c.slowest = std::max(c.slowest, seconds);
        break;
    case outcome::refused:
        ++c.refused;
        c.slowest = std::max(c.slowest, seconds);
        break;
    case outcome::down:
        ++c.down;
        break;
    case outcome::unanswered:
        ++c.unanswered;
        break;
    case outcome::wrong:
        ++c.wrong;
        if (c.wrong_answers.size() < 5)
            c.wrong_answers.push_back(detail);
        break;
    }
}

std::map<int, request_counts> traffic_book::requests() const
{
    std::lock_guard lock(mutex_);
    return requests_;
}

std::string event_body(std::int64_t home, std::int64_t n)
{
    return boost::json::serialize(boost::json::object{{"homeId", home},
                                                      {"timestamp", "2026-12-06T10:00:00.000Z"},
                                                      {"eventType", "fault-suite"},
                                                      {"eventData", {{"n", n}}},
                                                      {"originDeviceId", 9}});
}

event_sender::event_sender(traffic_book& book, const std::atomic<unsigned short>& ingest_port,
                           std::vector<std::int64_t> homes, int per_second)
    : book_(book)
    , port_(ingest_port)
    , homes_(std::move(homes))
    , per_second_(per_second)
{
    thread_ = std::thread([this] { run(); });
}

event_sender::~event_sender()
{
    new_events_ = false;
    stop_ = true;
    if (thread_.joinable())
        thread_.join();
}

bool event_sender::drain(std::chrono::milliseconds limit)
{
    new_events_ = false;
    auto deadline = clock::now() + limit;
    while (clock::now() < deadline) {
        bool all = true;
        for (const auto& [n, e] : book_.events())
            all = all && e.acked;
        if (all)
            return true;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

void event_sender::run()
{
    struct retry
    {
        std::int64_t n;
        std::int64_t home;
        clock::time_point at;
    };
    std::deque<retry> retries;
    const auto interval = std::chrono::microseconds(1'000'000 / per_second_);
    auto next_new = clock::now();
    std::size_t turn = 0;
    while (!stop_) {
        std::int64_t n = 0;
        std::int64_t home = 0;
        auto now = clock::now();
        if (!retries.empty() && retries.front().at <= now) {
            n = retries.front().n;
            home = retries.front().home;
            retries.pop_front();
        } else if (new_events_ && now >= next_new) {
            home = homes_[turn++ % homes_.size()];
            n = book_.new_event(home);
            next_new += interval;
            if (next_new < now - 1s) // fallen behind during a fault: no burst to make up for it
                next_new = now;
        } else {
            std::this_thread::sleep_for(2ms);
            continue;
        }
        bool acked = false;
        try {
            test::running_service ingest;
            ingest.port = port_.load();
            acked = test::post_signed_event(ingest, event_body(home, n), test::webhook_key, test::webhook_url, {}, 5s)
                        .status == 204U;
        } catch (const boost::system::system_error&) {
            // refused, reset or timed out: sent again, as MODE would
        }
        book_.attempted(n, acked);
        if (!acked)
            retries.push_back({n, home, clock::now() + 500ms});
    }
}

requester::requester(traffic_book& book, const std::atomic<unsigned short>* ports, std::vector<std::string> tokens,
                     std::chrono::milliseconds timeout)
    : book_(book)
    , ports_(ports)
    , tokens_(std::move(tokens))
    , timeout_(timeout)
{
    thread_ = std::thread([this] { run(); });
}

requester::~requester()
{
    stop();
}

void requester::stop()
{
    stop_ = true;
    if (thread_.joinable())
        thread_.join();
}

void requester::run()
{
    std::size_t turn = 0;
    while (!stop_) {
        const auto& token = tokens_[turn % tokens_.size()];
        // The session (a cache, then PostgreSQL), MODE with the user's key, and PostgreSQL itself.
        static const std::string targets[] = {"/v1/me", "/v1/homes", "/v1/me/sessions"};
        const auto& target = targets[turn % 3];
        const auto port = ports_[(turn / 3) % 2].load();
        ++turn;
        const auto sent = clock::now();
        auto took = [&] { return std::chrono::duration<double>(clock::now() - sent).count(); };
        try {
            auto r = test::http_call(port, http::verb::get, target, {}, {{"Authorization", "Bearer " + token}}, timeout_);
            if (r.status / 100 == 2)
                book_.count_request(outcome::answered, took());
            else if (r.status == 503U || r.status == 504U)
                book_.count_request(outcome::refused, took());
            else {
                std::ostringstream what;
                what << target << ": " << r;
                book_.count_request(outcome::wrong, took(), what.str());
            }
        } catch (const boost::system::system_error& e) {
            const bool timed_out = e.code() == boost::beast::error::timeout;
            book_.count_request(timed_out ? outcome::unanswered : outcome::down, took(), target + ": " + e.code().message());
        }
        std::this_thread::sleep_for(20ms);
    }
}

long rss_kib(int pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return 0;
}

} // namespace faults
