// Restarts that drop nothing: SIGTERM to one gateway and one webhook-ingest while users make requests, hold
// live streams and MODE delivers events, with a load balancer in front that follows /readyz (as operators
// run them, MB_SHUTDOWN_DELAY set to its poll interval). Every request that reached a service is answered,
// every event an ingest acknowledged is stored exactly once and reaches the live client (which resumes on
// the other gateway with `after`), and both leaving processes exit 0.
#include "support/live_deployment.hpp"
#include "support/resuming_client.hpp"
#include "support/wait.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace {

using namespace common::aliases;
using namespace std::chrono_literals;

// What became of one request: the connection was refused (never accepted: nothing to lose), it was
// accepted and then ended without an answer (lost), or it was answered.
struct outcome
{
    enum { refused, lost, answered } what = refused;
    unsigned status = 0;
};

outcome exchange(unsigned short port, http::verb method, const std::string& target, const std::string& body,
                 const std::vector<std::pair<std::string, std::string>>& headers)
{
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(5s);
    boost::system::error_code ec;
    stream.socket().connect({net::ip::make_address("127.0.0.1"), port}, ec);
    if (ec)
        return {};
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::connection, "close");
    for (const auto& [k, v] : headers)
        req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req, ec);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    if (!ec)
        http::read(stream, buffer, res, ec);
    if (ec)
        return {outcome::lost, 0};
    return {outcome::answered, res.result_int()};
}

// A load balancer in front of some instances: it polls each one's /readyz every 100 ms and sends new
// work only to those that answered 200 last time, round-robin.
class balancer
{
public:
    explicit balancer(std::vector<unsigned short> ports)
        : ports_(std::move(ports))
        , ready_(ports_.size())
    {
        for (auto& r : ready_)
            r = true;
        poller_ = std::thread([this] {
            while (!stop_) {
                for (std::size_t i = 0; i < ports_.size(); ++i) {
                    auto o = exchange(ports_[i], http::verb::get, "/readyz", {}, {});
                    ready_[i] = o.what == outcome::answered && o.status == 200U;
                }
                std::this_thread::sleep_for(100ms);
            }
        });
    }
    ~balancer()
    {
        stop_ = true;
        poller_.join();
    }
    // The next ready instance (the first one if none is).
    unsigned short pick()
    {
        for (std::size_t n = 0; n < ports_.size(); ++n) {
            auto i = next_++ % ports_.size();
            if (ready_[i])
                return ports_[i];
        }
        return ports_[0];
    }

private:
    std::vector<unsigned short> ports_;
    std::vector<std::atomic<bool>> ready_;
    std::atomic<std::size_t> next_{0};
    std::atomic<bool> stop_{false};
    std::thread poller_;
};

struct tally
{
    std::atomic<int> answered{0}, refused{0}, lost{0}, unexpected{0};
    std::mutex mutex;
    std::vector<std::string> notes;
    void note(const std::string& s)
    {
        std::lock_guard lock(mutex);
        if (notes.size() < 10)
            notes.push_back(s);
    }
    std::string first()
    {
        std::lock_guard lock(mutex);
        return notes.empty() ? std::string() : notes.front();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(sigterm_during_traffic_loses_no_acknowledged_event_and_no_accepted_request)
{
    const std::map<std::string, std::string> leaving_env = {{"MB_SHUTDOWN_DELAY", "1s"}, {"MB_SHUTDOWN_GRACE", "20s"}};
    live::deployment d(leaving_env); // d.gw leaves; d.ingest stays
    auto gw_env = leaving_env;
    gw_env["MB_REDIS_URL"] = d.redis_url;
    gw_env["MB_SECRET_KEY"] = d.gw.env.at("MB_SECRET_KEY");
    auto staying_gw = test::start_gateway(d.db.url(), d.sim.base_url(), gw_env);
    auto leaving_ingest = test::start_ingest(
        d.db.url(), {{"MB_REDIS_URL", d.redis_url}, {"MB_SHUTDOWN_DELAY", "1s"}, {"MB_SHUTDOWN_GRACE", "20s"}});

    auto u = d.new_user("restart");
    test::resuming_client client({d.gw.port, staying_gw.port}, u.token, {.random_drops = false});
    BOOST_TEST_REQUIRE(test::eventually([&] { return client.start().has_value(); }, 15s));

    balancer gateways({d.gw.port, staying_gw.port});
    balancer ingests({leaving_ingest.port, d.ingest.port});
    std::atomic<bool> stop{false};
    tally requests, posts;
    std::atomic<int> answered_by_leaving{0};

    // Users: GET /v1/me, each on a connection of its own.
    auto user_traffic = [&] {
        while (!stop) {
            auto port = gateways.pick();
            auto o = exchange(port, http::verb::get, "/v1/me", {}, {{"Authorization", "Bearer " + u.token}});
            if (o.what == outcome::refused) {
                ++requests.refused;
            } else if (o.what == outcome::lost) {
                ++requests.lost;
                requests.note("GET /v1/me on :" + std::to_string(port) + " got no answer");
            } else {
                ++requests.answered;
                if (port == d.gw.port)
                    ++answered_by_leaving;
                if (o.status != 200U) {
                    ++requests.unexpected;
                    requests.note("GET /v1/me answered " + std::to_string(o.status));
                }
            }
            std::this_thread::sleep_for(5ms);
        }
    };
    // MODE: each event delivered until acknowledged (a refused or lost delivery is retried, as MODE does).
    std::mutex acked_mutex;
    std::vector<int> acked;
    auto mode_traffic = [&](int first) {
        for (int n = first; !stop; ++n) {
            auto body = json::serialize(json::object{{"homeId", u.home},
                                                     {"timestamp", "2026-12-05T10:00:00.000Z"},
                                                     {"eventType", "reading"},
                                                     {"eventData", {{"n", n}}}});
            for (int attempt = 0; attempt < 100; ++attempt) {
                auto port = ingests.pick();
                auto o = exchange(port, http::verb::post, "/v1/mode/events", body, test::webhook_signature(body));
                if (o.what == outcome::refused) {
                    ++posts.refused;
                } else if (o.what == outcome::lost) {
                    ++posts.lost;
                    posts.note("event " + std::to_string(n) + " on :" + std::to_string(port) + " got no answer");
                } else if (o.status == 204U) {
                    ++posts.answered;
                    std::lock_guard lock(acked_mutex);
                    acked.push_back(n);
                    break;
                } else {
                    ++posts.unexpected;
                    posts.note("event " + std::to_string(n) + " answered " + std::to_string(o.status));
                }
                std::this_thread::sleep_for(50ms);
            }
            std::this_thread::sleep_for(10ms);
        }
    };
    std::vector<std::thread> traffic;
    traffic.emplace_back(user_traffic);
    traffic.emplace_back(user_traffic);
    traffic.emplace_back(mode_traffic, 100000);
    traffic.emplace_back(mode_traffic, 200000);

    std::this_thread::sleep_for(1500ms);
    d.gw.proc->terminate();
    leaving_ingest.proc->terminate();
    auto gw_code = d.gw.proc->wait(30s);
    auto ingest_code = leaving_ingest.proc->wait(30s);
    std::this_thread::sleep_for(1500ms); // traffic goes on against the instances that stay
    stop = true;
    for (auto& t : traffic)
        t.join();

    BOOST_TEST_MESSAGE("requests answered " << requests.answered << " (by the leaving gateway " << answered_by_leaving
                                             << "), refused " << requests.refused << ", lost " << requests.lost
                                             << "; deliveries acknowledged " << posts.answered << ", refused "
                                             << posts.refused << ", lost " << posts.lost);
    BOOST_TEST(gw_code.value_or(-1) == 0, d.gw.proc->output());
    BOOST_TEST(ingest_code.value_or(-1) == 0, leaving_ingest.proc->output());
    // Traffic reached the leaving gateway, and every request that reached a service got its answer.
    BOOST_TEST(answered_by_leaving.load() > 0);
    BOOST_TEST(requests.answered.load() > 50);
    BOOST_TEST(requests.lost.load() == 0, requests.lost.load() << " requests lost: " << requests.first());
    BOOST_TEST(requests.unexpected.load() == 0, requests.first());
    BOOST_TEST(posts.lost.load() == 0, posts.lost.load() << " deliveries lost: " << posts.first());
    BOOST_TEST(posts.unexpected.load() == 0, posts.first());

    // Every acknowledged event is stored exactly once.
    std::sort(acked.begin(), acked.end());
    BOOST_TEST_REQUIRE(acked.size() > 20U);
    BOOST_TEST((std::adjacent_find(acked.begin(), acked.end()) == acked.end()));
    std::vector<int> stored_ns;
    std::vector<std::int64_t> stored_seqs;
    {
        pqxx::connection c(d.db.url());
        pqxx::read_transaction tx(c);
        for (const auto& r : tx.exec_params("SELECT seq, (payload::json->'eventData'->>'n')::int FROM events "
                                            "WHERE home_id = $1 AND seq > $2 ORDER BY seq",
                                            u.home, *client.start())) {
            stored_seqs.push_back(r[0].as<std::int64_t>());
            stored_ns.push_back(r[1].as<int>());
        }
    }
    std::sort(stored_ns.begin(), stored_ns.end());
    BOOST_TEST(stored_ns == acked, boost::test_tools::per_element());

    // ... and reached the live client exactly once, which moved to the staying gateway when told (1001).
    auto all_received = [&] {
        auto got = client.received();
        std::sort(got.begin(), got.end());
        return std::includes(got.begin(), got.end(), stored_seqs.begin(), stored_seqs.end());
    };
    BOOST_TEST(test::eventually(all_received, 20s));
    std::this_thread::sleep_for(300ms); // anything doubled shows up too
    client.stop();
    auto got = client.received();
    BOOST_TEST(client.failure().empty(), client.failure());
    BOOST_TEST(got == stored_seqs, boost::test_tools::per_element());
    auto closes = client.server_closes();
    BOOST_TEST((std::find(closes.begin(), closes.end(), 1001) != closes.end()));
    BOOST_TEST(client.connections() >= 2);
}

BOOST_AUTO_TEST_SUITE_END()
