// The gateway's live event stream (GET /v1/events): what it carries, resumes, outages, shutdown.
#include "support/live_deployment.hpp"
#include "support/tcp_relay.hpp"
#include "support/wait.hpp"
#include "support/webhook.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <set>
#include <thread>

using namespace common::aliases;

namespace live {

// The owner adds the guest to their home, then removes them, through the deployment's gateway; the
// guest's stream `ws` is told, streams the home's events at once, and stops at once.
void follow_membership(deployment& d, const deployment::user& owner, const deployment::user& guest,
                       test::ws_client& ws)
{
    auto members = "/v1/homes/" + std::to_string(owner.home) + "/members";
    auto added = d.call(http::verb::post, members, owner.token, {{"email", guest.email}});
    BOOST_TEST_REQUIRE(added.status == 201U, added);
    // The notice for the user, and the stream's own `home.added` once MODE confirmed it (in either order):
    // it follows the home from here on.
    std::set<std::string> told;
    for (int i = 0; i < 2; ++i) {
        auto note = next(ws);
        BOOST_TEST(note.at("homeId").as_int64() == owner.home);
        told.insert(std::string(note.at("type").as_string()));
    }
    BOOST_TEST((told == std::set<std::string>{"home.added", "member.added"}));

    // At once: no event of the home is lost while the stream takes it up.
    d.emit(owner.home, 1);
    auto e = next(ws);
    BOOST_TEST(e.at("homeId").as_int64() == owner.home);
    BOOST_TEST(n_of(e) == 1);

    auto removed = d.call(http::verb::delete_, members + "/" + std::to_string(guest.mode_user), owner.token);
    BOOST_TEST_REQUIRE(removed.status == 204U, removed);
    // Told before the removal was answered: the home stops before its next event.
    auto lost = next(ws);
    BOOST_TEST(lost.at("type").as_string() == "home.removed");
    BOOST_TEST(lost.at("homeId").as_int64() == owner.home);
    d.emit(owner.home, 2);
    d.emit(guest.home, 3);
    // Events are published in seq order: the guest's own event arriving first shows the other was held back.
    auto own = next(ws);
    BOOST_TEST(own.at("homeId").as_int64() == guest.home);
    BOOST_TEST(n_of(own) == 3);
}

} // namespace live

BOOST_AUTO_TEST_SUITE(live_events)

BOOST_FIXTURE_TEST_CASE(streams_without_a_valid_session_are_closed_with_4001, live::deployment)
{
    {
        test::ws_client ws(gw.port, "/v1/events");
        BOOST_TEST(ws.wait_closed());
        BOOST_TEST(ws.closed_with().value_or(0) == 4001);
    }
    {
        test::ws_client ws(gw.port, "/v1/events?access_token=not-a-session-token-at-all-0123456789");
        BOOST_TEST(ws.wait_closed());
        BOOST_TEST(ws.closed_with().value_or(0) == 4001);
    }
    // A session that ends while the stream is open ends the stream.
    auto u = new_user("leaver");
    auto ws = stream(u);
    live::until_ready(*ws);
    BOOST_TEST(call(http::verb::post, "/v1/auth/logout", u.token).status == 204U);
    BOOST_TEST(ws->wait_closed(std::chrono::seconds(15)));
    BOOST_TEST(ws->closed_with().value_or(0) == 4001);
}

BOOST_FIXTURE_TEST_CASE(each_user_receives_the_events_of_their_own_homes_in_order, live::deployment)
{
    auto alice = new_user("alice");
    auto bob = new_user("bob");
    auto a = stream(alice);
    // Browsers cannot set headers: the token may come as a query parameter.
    test::ws_client b(gw.port, "/v1/events?access_token=" + bob.token);
    BOOST_TEST(live::until_ready(*a).empty());
    BOOST_TEST(live::until_ready(b).empty());

    emit(alice.home, 1);
    emit(bob.home, 2);
    emit(alice.home, 3);
    emit(bob.home, 4);

    auto a1 = live::next(*a);
    auto a3 = live::next(*a);
    BOOST_TEST(a1.at("type").as_string() == "event");
    BOOST_TEST(a1.at("homeId").as_int64() == alice.home);
    BOOST_TEST(live::n_of(a1) == 1);
    BOOST_TEST(a1.at("eventType").as_string() == "reading");
    BOOST_TEST(a1.at("originDeviceId").as_int64() == 9);
    BOOST_TEST(live::n_of(a3) == 3);
    BOOST_TEST(a3.at("seq").as_int64() > a1.at("seq").as_int64());
    BOOST_TEST(!a->read(std::chrono::milliseconds(300)).has_value(), "alice received another home's event");

    auto b2 = live::next(b);
    auto b4 = live::next(b);
    BOOST_TEST(b2.at("homeId").as_int64() == bob.home);
    BOOST_TEST(live::n_of(b2) == 2);
    BOOST_TEST(live::n_of(b4) == 4);
    BOOST_TEST(!b.read(std::chrono::milliseconds(300)).has_value(), "bob received another home's event");
    // The token in the query string never reaches the log.
    BOOST_TEST(gw.proc->output().find(bob.token) == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_resume_with_after_sends_what_was_missed_once_then_ready_then_live, live::deployment)
{
    auto u = new_user("resumer");
    std::int64_t seen = 0;
    {
        auto ws = stream(u);
        std::int64_t first_ready = -1;
        BOOST_TEST(live::until_ready(*ws, &first_ready).empty());
        BOOST_TEST(first_ready == 0); // nothing stored yet
        emit(u.home, 1);
        emit(u.home, 2);
        BOOST_TEST(live::n_of(live::next(*ws)) == 1);
        auto second = live::next(*ws);
        BOOST_TEST(live::n_of(second) == 2);
        seen = second.at("seq").as_int64();
        ws->close();
    }
    // Missed while away.
    for (int n = 3; n <= 6; ++n)
        emit(u.home, n);

    auto ws = stream(u, "?after=" + std::to_string(seen));
    std::int64_t last = -1;
    auto missed = live::until_ready(*ws, &last);
    BOOST_TEST_REQUIRE(missed.size() == 4U);
    std::int64_t prev = seen;
    for (int i = 0; i < 4; ++i) {
        BOOST_TEST(live::n_of(missed[static_cast<std::size_t>(i)]) == i + 3);
        auto seq = missed[static_cast<std::size_t>(i)].at("seq").as_int64();
        BOOST_TEST(seq > prev);
        prev = seq;
    }
    // The store holds nothing newer than event 6 (the only home here): ready says exactly where it stands.
    BOOST_TEST(last == prev);

    emit(u.home, 7);
    BOOST_TEST(live::n_of(live::next(*ws)) == 7);
    BOOST_TEST(!ws->read(std::chrono::milliseconds(300)).has_value(), "an event came twice");

    // A malformed `after` is refused.
    auto bad = stream(u, "?after=-1");
    BOOST_TEST(bad->wait_closed());
    BOOST_TEST(bad->closed_with().value_or(0) == 1008);
}

BOOST_FIXTURE_TEST_CASE(a_new_member_is_told_and_follows_the_home_until_removed, live::deployment)
{
    auto owner = new_user("owner");
    auto guest = new_user("guest");
    auto ws = stream(guest);
    live::until_ready(*ws);
    live::follow_membership(*this, owner, guest, *ws);
}

BOOST_FIXTURE_TEST_CASE(events_stored_while_redis_was_down_arrive_once_in_order_when_it_returns, live::deployment)
{
    auto u = new_user("outage");
    auto ws = stream(u);
    live::until_ready(*ws);
    emit(u.home, 1);
    BOOST_TEST(live::n_of(live::next(*ws)) == 1);

    redis.kill();
    emit(u.home, 2); // stored, not published
    emit(u.home, 3);
    redis.start();
    // The stream catches up from the store when its subscription is back, and the ingest's relay
    // publishes the same events again: each arrives once.
    BOOST_TEST(live::n_of(live::next(*ws)) == 2);
    BOOST_TEST(live::n_of(live::next(*ws)) == 3);
    // The relay's copies went out too (so the stream did see each event twice on Redis's side).
    bool relayed = false;
    for (int i = 0; i < 100 && !relayed; ++i) {
        auto metrics = test::http_call(ingest.port, http::verb::get, "/metrics").body;
        relayed = metrics.find("mb_events_published_total{path=\"relay\"} 2") != std::string::npos;
        if (!relayed)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(relayed);
    emit(u.home, 4);
    BOOST_TEST(live::n_of(live::next(*ws)) == 4);
    BOOST_TEST(!ws->read(std::chrono::milliseconds(500)).has_value(), "an event came twice");
}

BOOST_FIXTURE_TEST_CASE(one_event_reaches_many_listeners_through_one_post_per_shard, live::deployment)
{
    auto u = new_user("crowd");
    std::vector<std::unique_ptr<test::ws_client>> crowd;
    for (int i = 0; i < 12; ++i) {
        crowd.push_back(stream(u));
        live::until_ready(*crowd.back());
    }
    auto posts = [&] {
        auto metrics = test::http_call(gw.port, http::verb::get, "/metrics").body;
        const std::string name = "\nmb_live_shard_posts_total ";
        auto at = metrics.find(name);
        return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + name.size()));
    };
    auto before = posts();
    for (int n = 1; n <= 5; ++n)
        emit(u.home, n);
    for (auto& ws : crowd)
        for (int n = 1; n <= 5; ++n)
            BOOST_TEST(live::n_of(live::next(*ws)) == n);
    // The test gateway runs two I/O threads, so two shards: each event went to each shard once, not
    // to each of the twelve streams.
    auto sent = posts() - before;
    BOOST_TEST(sent >= 5.0);
    BOOST_TEST(sent <= 5.0 * 2);
}

BOOST_AUTO_TEST_CASE(a_client_too_slow_to_keep_up_is_closed_with_4008)
{
    live::deployment d(std::map<std::string, std::string>{{"MB_LIVE_BACKLOG", "100"}});
    auto u = d.new_user("slow");
    auto ws = d.stream(u);
    live::until_ready(*ws);
    // Not reading: once the socket buffers are full, messages wait on the gateway, up to MB_LIVE_BACKLOG;
    // 400 events of 64 KiB (25 MiB) overflow both.
    live::flood(d.redis.port(), u.home, 1'000'000, 400, 64 * 1024);
    BOOST_TEST(ws->wait_closed(std::chrono::seconds(60)));
    BOOST_TEST(ws->closed_with().value_or(0) == 4008);
}

BOOST_AUTO_TEST_CASE(a_stream_that_cannot_read_the_store_is_closed_with_1013)
{
    test::redis_server redis;
    test::scratch_database db;
    test::tcp_relay relay(db.url());
    auto sim = test::start_mode_sim();
    auto gw = test::start_gateway(relay.rewrite_url(db.url()), sim.base_url(),
                                  {{"MB_REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis.port())},
                                   {"MB_DB_TIMEOUT", "1s"}});
    auto token = test::verified_login(gw, test::unique_email("storeless"));
    relay.freeze();
    // The session is in the gateway's cache; the stream's homes are not.
    test::ws_client ws(gw.port, "/v1/events", {{"Authorization", "Bearer " + token}});
    BOOST_TEST(ws.wait_closed(std::chrono::seconds(15)));
    BOOST_TEST(ws.closed_with().value_or(0) == 1013);
    relay.thaw();
    bool ready = false;
    for (int i = 0; i < 20 && !ready; ++i) {
        test::ws_client again(gw.port, "/v1/events", {{"Authorization", "Bearer " + token}});
        auto m = again.read(std::chrono::seconds(5));
        ready = m && json::parse(*m).at("type").as_string() == "ready";
        if (!ready)
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    BOOST_TEST(ready);
}

BOOST_FIXTURE_TEST_CASE(a_gateway_shutting_down_closes_its_streams_with_1001_and_exits_0, live::deployment)
{
    auto u = new_user("shutdown");
    auto ws = stream(u);
    live::until_ready(*ws);
    gw.proc->terminate();
    BOOST_TEST(ws->wait_closed(std::chrono::seconds(10)));
    BOOST_TEST(ws->closed_with().value_or(0) == 1001);
    BOOST_TEST(gw.proc->wait(std::chrono::seconds(15)).value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(a_stream_on_one_instance_follows_changes_made_through_another, live::deployment)
{
    // A second gateway on the same store and Redis, as behind a load balancer.
    auto other = test::start_gateway(db.url(), sim.base_url(),
                                     {{"MB_REDIS_URL", redis_url}, {"MB_SECRET_KEY", gw.env.at("MB_SECRET_KEY")}});
    auto owner = new_user("owner2");
    auto guest = new_user("guest2");
    test::ws_client ws(other.port, "/v1/events", {{"Authorization", "Bearer " + guest.token}});
    live::until_ready(ws);

    // Added and removed through the first instance; followed by the stream on the second.
    live::follow_membership(*this, owner, guest, ws);

    // A logout through the first instance ends the stream on the second.
    BOOST_TEST(call(http::verb::post, "/v1/auth/logout", guest.token).status == 204U);
    BOOST_TEST(ws.wait_closed(std::chrono::seconds(15)));
    BOOST_TEST(ws.closed_with().value_or(0) == 4001);
}

BOOST_AUTO_TEST_CASE(a_stream_outlives_a_store_outage_during_a_resync)
{
    // The gateway reads the store through a relay that can hang; the ingest reaches it directly.
    test::redis_server redis;
    auto redis_url = "redis://127.0.0.1:" + std::to_string(redis.port());
    test::scratch_database db;
    test::tcp_relay relay(db.url());
    auto sim = test::start_mode_sim();
    auto ingest = test::start_ingest(db.url(), {{"MB_REDIS_URL", redis_url}});
    auto gw = test::start_gateway(relay.rewrite_url(db.url()), sim.base_url(),
                                  {{"MB_REDIS_URL", redis_url}, {"MB_DB_TIMEOUT", "1s"}});
    auto token = test::verified_login(gw, test::unique_email("outlives"));
    auto home = test::http_call(gw.port, http::verb::post, "/v1/homes", R"({"name":"Home"})",
                                {{"Authorization", "Bearer " + token}})
                    .json()
                    .at("id")
                    .as_int64();
    auto emit = [&](int n) {
        auto body = json::serialize(json::object{{"homeId", home}, {"eventType", "reading"}, {"eventData", {{"n", n}}}});
        auto r = test::post_signed_event(ingest, body);
        BOOST_REQUIRE_MESSAGE(r.status == 204U, r);
    };
    // A sample of `name` (no labels) in the service's /metrics; -1 when absent.
    auto metric = [](const test::running_service& s, const std::string& name) {
        auto body = test::http_call(s.port, http::verb::get, "/metrics").body;
        auto at = body.find("\n" + name + " ");
        return at == std::string::npos ? -1.0 : std::stod(body.substr(at + name.size() + 2));
    };
    // How many log lines of the gateway carry the event `name`.
    auto logged = [&](const std::string& name) {
        auto out = gw.proc->output();
        std::size_t n = 0;
        for (auto at = out.find("\"" + name + "\""); at != std::string::npos; at = out.find("\"" + name + "\"", at + 1))
            ++n;
        return n;
    };
    test::ws_client ws(gw.port, "/v1/events", {{"Authorization", "Bearer " + token}});
    std::int64_t ready_at = -1;
    BOOST_TEST(live::until_ready(ws, &ready_at).empty());
    BOOST_TEST(ready_at == 0);

    relay.freeze();
    emit(1);
    auto e1 = live::next(ws); // live events need no store
    BOOST_TEST(live::n_of(e1) == 1);
    const auto reads_before = metric(gw, "mb_live_home_reads");
    const auto resyncs_before = logged("live.resync");
    const auto resync_count_before = metric(gw, "mb_live_resyncs_total");
    BOOST_TEST_REQUIRE(reads_before >= 1.0); // the stream read its homes when it opened

    // A Redis restart: what was published meanwhile is lost to the stream, so it must catch up from
    // the store before it sends anything newer, and the store hangs. The stream stays open and holds
    // event 2 back (sending it first would let a client resuming after 2 miss whatever fell in the gap).
    redis.kill();
    emit(2); // stored; the ingest publishes it once Redis is back
    redis.start();
    // The gateway saw its subscription come back and told its streams to resync ...
    BOOST_TEST_REQUIRE(test::eventually([&] { return logged("live.resync") > resyncs_before; }, std::chrono::seconds(30)),
                       "no live.resync logged after the Redis restart:\n" << gw.proc->output());
    BOOST_TEST(resync_count_before >= 0.0, "mb_live_resyncs_total is exported");
    BOOST_TEST(metric(gw, "mb_live_resyncs_total") > resync_count_before, "the resync was counted");
    // ... the stream read its homes from MODE again (announcements may have been lost too) ...
    BOOST_TEST(test::eventually([&] { return metric(gw, "mb_live_home_reads") > reads_before; }, std::chrono::seconds(15)),
               "the homes were not read again after the Redis restart");
    // ... and the ingest's relay published event 2 on Redis, to the gateway.
    BOOST_TEST_REQUIRE(test::eventually(
        [&] {
            return test::http_call(ingest.port, http::verb::get, "/metrics")
                       .body.find("mb_events_published_total{path=\"relay\"} 1") != std::string::npos;
        },
        std::chrono::seconds(30)));
    // The catch-up from the store failed, and failed again after event 2 was on Redis: all that time
    // event 2 was held back.
    const auto failures_when_relayed = logged("live.store_failed");
    BOOST_TEST_REQUIRE(test::eventually([&] { return logged("live.store_failed") > failures_when_relayed && logged("live.store_failed") >= 2; },
                                        std::chrono::seconds(30)),
                       "the stream did not keep retrying its catch-up from the hung store:\n" << gw.proc->output());
    BOOST_TEST(!ws.read(std::chrono::milliseconds(500)).has_value(), "an event went out before the gap was filled");

    // The store returns: the resync completes, event 2 comes from the store, once, in seq order, and
    // its copy from Redis is not sent again.
    relay.thaw();
    auto e2 = live::next(ws);
    BOOST_TEST(live::n_of(e2) == 2);
    BOOST_TEST(e2.at("seq").as_int64() > e1.at("seq").as_int64());
    emit(3);
    auto e3 = live::next(ws);
    BOOST_TEST(live::n_of(e3) == 3);
    BOOST_TEST(e3.at("seq").as_int64() > e2.at("seq").as_int64());
    BOOST_TEST(!ws.read(std::chrono::seconds(2)).has_value(), "an event came twice once the store was back");
    // Still streaming: the next event is a frame read, not just a socket not yet seen closed.
    emit(4);
    auto e4 = live::next(ws);
    BOOST_TEST(live::n_of(e4) == 4);
    BOOST_TEST(e4.at("seq").as_int64() > e3.at("seq").as_int64());
    BOOST_TEST(!ws.closed_with().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
