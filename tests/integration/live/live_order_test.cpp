// Exact order and resume: events from two webhook-ingest instances, one of which loses Redis for a
// while (its relay republishes later, below what the other published since), reach streams that drop
// at random and resume with the highest seq they received. The union of what each client received is
// exactly the stored events of its homes, each once, and every connection saw them in seq order.
#include "support/live_deployment.hpp"
#include "support/resuming_client.hpp"
#include "support/tcp_relay.hpp"
#include "support/webhook.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <thread>

namespace live {

namespace {

void emit_to(unsigned short ingest_port, std::int64_t home, int n)
{
    auto body = json::serialize(json::object{{"homeId", home},
                                             {"timestamp", "2026-12-04T10:00:00.000Z"},
                                             {"eventType", "reading"},
                                             {"eventData", {{"n", n}}},
                                             {"originDeviceId", 9}});
    for (int attempt = 0; attempt < 50; ++attempt) {
        auto r = test::http_call(ingest_port, http::verb::post, "/v1/mode/events", body, test::webhook_signature(body));
        if (r.status == 204U)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("the ingest did not take event " + std::to_string(n));
}

std::vector<std::int64_t> stored_seqs(const std::string& db_url, const std::vector<std::int64_t>& homes, std::int64_t after)
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    std::string list;
    for (auto h : homes)
        list += (list.empty() ? "" : ",") + std::to_string(h);
    std::vector<std::int64_t> out;
    for (const auto& r : tx.exec("SELECT seq FROM events WHERE home_id IN (" + list + ") AND seq > " +
                                 std::to_string(after) + " ORDER BY seq"))
        out.push_back(r[0].as<std::int64_t>());
    return out;
}

} // namespace

} // namespace live

BOOST_AUTO_TEST_SUITE(live_order)

BOOST_AUTO_TEST_CASE(two_ingests_a_relay_and_random_resumes_deliver_every_event_once_in_order)
{
    live::deployment d;
    // A second ingest whose Redis goes through a relay that the test freezes.
    test::tcp_relay redis_path("127.0.0.1", d.redis.port());
    auto second = test::start_ingest(
        d.db.url(), {{"MB_REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis_path.port())}});

    auto alone = d.new_user("alone");   // streams alone's home
    auto sharer = d.new_user("sharer"); // streams sharer's home and alone's
    auto other = d.new_user("other");   // no stream: its events must reach nobody here
    BOOST_TEST_REQUIRE(d.call(boost::beast::http::verb::post, "/v1/homes/" + std::to_string(alone.home) + "/members",
                              alone.token, {{"email", sharer.email}})
                           .status == 201U);
    const std::vector<std::int64_t> homes = {alone.home, sharer.home, other.home};

    test::resuming_client c1({d.gw.port}, alone.token, {.seed = 1});
    test::resuming_client c2({d.gw.port}, sharer.token, {.seed = 2});
    for (int i = 0; i < 100 && (!c1.start() || !c2.start()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST_REQUIRE((c1.start() && c2.start()));

    constexpr int per_sender = 150;
    std::atomic<bool> senders_failed{false};
    auto sender = [&](unsigned short port, int base) {
        try {
            for (int i = 0; i < per_sender; ++i) {
                live::emit_to(port, homes[static_cast<std::size_t>(i) % homes.size()], base + i);
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        } catch (const std::exception&) {
            senders_failed = true;
        }
    };
    std::thread a(sender, d.ingest.port, 100000);
    std::thread b(sender, second.port, 200000);
    // The second ingest loses Redis for a while: its events stay unpublished, then its relay
    // republishes them, below seqs the first one published meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    redis_path.freeze();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    redis_path.thaw();
    a.join();
    b.join();
    BOOST_TEST_REQUIRE(!senders_failed.load());
    // A relay did republish the events the second ingest could not (either instance's relay takes
    // them), else this test would not test late events.
    auto relayed = [](unsigned short port) {
        auto metrics = test::http_call(port, boost::beast::http::verb::get, "/metrics").body;
        const std::string name = "mb_events_published_total{path=\"relay\"} ";
        auto at = metrics.find(name);
        return at == std::string::npos ? 0.0 : std::stod(metrics.substr(at + name.size()));
    };
    double republished = 0;
    for (int i = 0; i < 100 && republished == 0; ++i) {
        republished = relayed(d.ingest.port) + relayed(second.port);
        if (republished == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(republished > 0);

    auto want1 = live::stored_seqs(d.db.url(), {alone.home}, *c1.start());
    auto want2 = live::stored_seqs(d.db.url(), {alone.home, sharer.home}, *c2.start());
    BOOST_TEST(want1.size() >= 90U);
    auto covers = [](std::vector<std::int64_t> got, const std::vector<std::int64_t>& want) {
        std::sort(got.begin(), got.end());
        got.erase(std::unique(got.begin(), got.end()), got.end());
        return std::includes(got.begin(), got.end(), want.begin(), want.end());
    };
    for (int i = 0; i < 600 && !(covers(c1.received(), want1) && covers(c2.received(), want2)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(500)); // anything extra or doubled shows up too
    c1.stop();
    c2.stop();

    for (auto* c : {&c1, &c2}) {
        BOOST_TEST(c->failure().empty(), c->failure());
        BOOST_TEST(c->connections() > 3, "the client resumed " << c->connections() - 1 << " times");
    }
    auto got1 = c1.received();
    auto got2 = c2.received();
    std::sort(got1.begin(), got1.end());
    std::sort(got2.begin(), got2.end());
    // Exactly the stored events of the client's homes after its start: none missing, none twice, none
    // of another home.
    BOOST_TEST(got1 == want1, boost::test_tools::per_element());
    BOOST_TEST(got2 == want2, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
