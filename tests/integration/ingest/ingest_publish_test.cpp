// webhook-ingest publishing what it stored, and losing nothing when it or its database fails.
#include "integration/ingest/ingest_harness.hpp"

BOOST_AUTO_TEST_SUITE(ingest)

BOOST_AUTO_TEST_CASE(stored_events_are_published_per_home_with_their_seq)
{
    // The home and the events' contents are drawn from a seed printed here; MB_TEST_SEED replays one.
    std::uint64_t seed = std::random_device{}();
    if (const char* given = std::getenv("MB_TEST_SEED"); given != nullptr && *given != '\0')
        seed = std::stoull(given);
    BOOST_TEST_MESSAGE("MB_TEST_SEED=" << seed);
    BOOST_TEST_CONTEXT("MB_TEST_SEED=" << seed)
    {
        std::mt19937_64 rng(seed);
        const auto home = std::uniform_int_distribution<std::int64_t>(700000, 799999)(rng);
        const int count = 8;
        std::vector<int> ns(1000);
        std::iota(ns.begin(), ns.end(), 0);
        std::shuffle(ns.begin(), ns.end(), rng);
        ns.resize(count);

        test::scratch_database db;
        auto ingest = test::start_ingest(db.url());
        auto sub = subscribe("mb:home:" + std::to_string(home));
        for (int n : ns)
            BOOST_TEST_REQUIRE(post_event(ingest, event_body(home, "temp", n)).status == 204U);

        // What the store holds for the home, in seq order: acknowledged one by one, so in the order sent.
        std::vector<std::pair<std::int64_t, json::object>> in_store;
        {
            pqxx::connection c(db.url());
            pqxx::read_transaction tx(c);
            for (const auto& r : tx.exec_params("SELECT seq, payload FROM events WHERE home_id = $1 ORDER BY seq", home))
                in_store.emplace_back(r[0].as<std::int64_t>(), json::parse(r[1].as<std::string>()).as_object());
        }
        BOOST_TEST_REQUIRE(in_store.size() == static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i)
            BOOST_TEST(in_store[static_cast<std::size_t>(i)].second.at("eventData").at("n").as_int64() ==
                       ns[static_cast<std::size_t>(i)]);

        // What Redis carried on the home's channel, in the order it arrived: each message on a line of
        // its own (redis-cli --raw), the payload the one starting with '{'.
        auto published = [&] {
            std::vector<json::object> out;
            std::istringstream lines(sub.output());
            for (std::string line; std::getline(lines, line);)
                if (!line.empty() && line.front() == '{')
                    out.push_back(json::parse(line).as_object());
            return out;
        };
        auto distinct_seqs = [&] {
            std::set<std::int64_t> seqs;
            for (const auto& m : published())
                seqs.insert(m.at("seq").as_int64());
            return seqs.size();
        };
        // Waited for before the assertion: its message would otherwise be read before the wait.
        const bool all_published = test::eventually(
            [&] { return distinct_seqs() >= static_cast<std::size_t>(count); }, std::chrono::seconds(15));
        BOOST_TEST_REQUIRE(all_published, sub.output());
        auto messages = published();
        // Each stored event once, in seq order, with the seq the store gave it and its stored payload
        // behind `type` and `seq`. A copy republished later (the relay, after a slow update) is allowed
        // only as an exact copy of one already seen.
        std::vector<std::pair<std::int64_t, json::object>> first_seen;
        std::map<std::int64_t, json::object> seen;
        for (const auto& m : messages) {
            auto seq = m.at("seq").as_int64();
            if (auto it = seen.find(seq); it != seen.end()) {
                BOOST_TEST(it->second == m, "seq " << seq << " published again, differently: " << json::serialize(m));
                continue;
            }
            seen.emplace(seq, m);
            BOOST_TEST(m.at("type").as_string() == "event");
            json::object rest = m;
            rest.erase("type");
            rest.erase("seq");
            first_seen.emplace_back(seq, std::move(rest));
        }
        BOOST_TEST_REQUIRE(first_seen.size() == in_store.size(), sub.output());
        for (std::size_t i = 0; i < in_store.size(); ++i) {
            BOOST_TEST_CONTEXT("message " << i)
            {
                BOOST_TEST(first_seen[i].first == in_store[i].first);
                BOOST_TEST(first_seen[i].second == in_store[i].second, json::serialize(first_seen[i].second)
                                                                           << " vs stored "
                                                                           << json::serialize(in_store[i].second));
            }
        }
        // Marked published in the store.
        BOOST_TEST(test::eventually([&] { return stored(db.url(), "NOT published") == 0; }, std::chrono::seconds(10)));
    }
}

BOOST_AUTO_TEST_CASE(a_killed_ingest_loses_nothing_it_acknowledged)
{
    test::scratch_database db;
    auto ingest = test::start_ingest(db.url());
    std::atomic<bool> stop{false};
    std::mutex m;
    std::set<int> acknowledged;
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t)
        senders.emplace_back([&, t] {
            for (int i = 0; !stop; ++i) {
                int n = t * 1'000'000 + i;
                try {
                    if (post_event(ingest, event_body(3, "tick", n)).status == 204U) {
                        std::lock_guard lock(m);
                        acknowledged.insert(n);
                    }
                } catch (const std::exception&) {
                    return; // the process is gone
                }
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    ingest.proc->kill(); // no chance to flush anything
    stop = true;
    for (auto& s : senders)
        s.join();
    BOOST_TEST_REQUIRE(!acknowledged.empty());
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    std::set<int> in_store;
    for (const auto& r : tx.exec("SELECT (payload::json->'eventData'->>'n')::int FROM events"))
        in_store.insert(r[0].as<int>());
    for (int n : acknowledged)
        BOOST_TEST(in_store.count(n) == 1U, "acknowledged event " << n << " is missing");
}

BOOST_AUTO_TEST_CASE(a_database_that_stops_answering_is_a_503_not_a_hang_and_the_redelivery_is_stored_once)
{
    test::scratch_database db;
    test::tcp_relay relay(db.url());
    // One connection: the writer cannot dodge the hung one by opening another.
    auto ingest = test::start_ingest(relay.rewrite_url(db.url()), {{"MB_DB_TIMEOUT", "1s"}, {"MB_DB_POOL_SIZE", "1"}});
    BOOST_TEST_REQUIRE(post_event(ingest, event_body(77, "tick", 0)).status == 204U);

    relay.freeze();
    // The server holds the connection open and says nothing: the ingest gives up on it (within its
    // deadline, far below http_call's 10 s) and acknowledges nothing.
    auto body = event_body(77, "tick", 1);
    expect_problem(post_event(ingest, body), 503, "STORE_UNAVAILABLE");
    BOOST_TEST(test::http_call(ingest.port, http::verb::get, "/readyz").status == 503U);
    BOOST_TEST(test::http_call(ingest.port, http::verb::get, "/healthz").status == 200U);

    relay.thaw();
    // MODE redelivers; it lands, once, whatever became of the attempt that was cut.
    test::http_result again;
    for (int i = 0; i < 50; ++i) {
        again = post_event(ingest, body);
        if (again.status == 204U)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_TEST(again.status == 204U, again);
    BOOST_TEST(stored(db.url(), "home_id = 77") == 2);
    BOOST_TEST(ingest.proc->running());
}

BOOST_AUTO_TEST_SUITE_END()
