// redis::subscriber against a real redis-server: delivery, resubscribing, overflow, frozen servers, sync.

#include "support/redis_harness.hpp"

using namespace redis_harness;

BOOST_AUTO_TEST_SUITE(redis)

net::awaitable<void> pubsub(net::io_context& ioc, redis_server& srv)
{
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), srv.config());
    sub.subscribe("a"); // before start
    sub.start();
    sub.subscribe("b"); // after start
    BOOST_REQUIRE(co_await wait_subscribed(pub, "a"));
    BOOST_REQUIRE(co_await wait_subscribed(pub, "b"));
    BOOST_TEST(sub.connected());

    const std::string binary("x\0y\r\n", 5);
    BOOST_TEST((co_await pub.command("PUBLISH", "a", "hello")).integer == 1);
    co_await pub.command("PUBLISH", "c", "not subscribed");
    co_await pub.command("PUBLISH", "b", binary);

    auto m1 = co_await sub.receive(); // the first connect brings no `reconnected` marker
    BOOST_TEST((m1.kind == credis::message_kind::message));
    BOOST_TEST(m1.channel == "a");
    BOOST_TEST(m1.payload == "hello");
    auto m2 = co_await sub.receive();
    BOOST_TEST(m2.channel == "b");
    BOOST_TEST(m2.payload == binary);

    sub.unsubscribe("a");
    BOOST_REQUIRE(co_await wait_subscribed(pub, "a", 0));
    co_await pub.command("PUBLISH", "a", "gone");
    co_await pub.command("PUBLISH", "b", "still here");
    auto m3 = co_await sub.receive();
    BOOST_TEST(m3.channel == "b");
    BOOST_TEST(m3.payload == "still here");

    sub.stop();
    auto stopped = co_await failure_of(sub.receive());
    BOOST_TEST(is(stopped, credis::error_kind::unavailable), kind_of(stopped));
}

BOOST_AUTO_TEST_CASE(subscriber_receives_published_messages)
{
    with_redis(pubsub);
}

net::awaitable<void> pubsub_restart(net::io_context& ioc, redis_server& srv)
{
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), srv.config());
    sub.subscribe("revocations");
    sub.subscribe("events");
    sub.start();
    BOOST_REQUIRE(co_await wait_subscribed(pub, "events"));

    srv.kill();
    srv.start();
    auto marker = co_await sub.receive();
    BOOST_TEST((marker.kind == credis::message_kind::reconnected));
    // The marker is queued only once the re-subscription is confirmed: a consumer catching up now
    // cannot miss anything published from here on.
    BOOST_REQUIRE(co_await eventually([&] { return pub.connected(); }, 15s));
    BOOST_TEST(co_await numsub(pub, "events") == 1);
    BOOST_TEST(co_await numsub(pub, "revocations") == 1);

    co_await pub.command("PUBLISH", "events", "after restart");
    auto m = co_await sub.receive();
    BOOST_TEST((m.kind == credis::message_kind::message));
    BOOST_TEST(m.channel == "events");
    BOOST_TEST(m.payload == "after restart");
}

BOOST_AUTO_TEST_CASE(subscriber_marks_reconnect_and_resubscribes)
{
    with_redis(pubsub_restart);
}

net::awaitable<void> pubsub_overflow(net::io_context& ioc, redis_server& srv)
{
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), srv.config(), 2);
    sub.subscribe("ch");
    sub.start();
    BOOST_REQUIRE(co_await wait_subscribed(pub, "ch"));

    for (int i = 1; i <= 5; ++i)
        co_await pub.command("PUBLISH", "ch", std::to_string(i));
    BOOST_REQUIRE(co_await eventually([&] { return sub.dropped() == 3; }));

    BOOST_TEST(((co_await sub.receive()).kind == credis::message_kind::overflowed));
    BOOST_TEST((co_await sub.receive()).payload == "1");
    BOOST_TEST((co_await sub.receive()).payload == "2");
    co_await pub.command("PUBLISH", "ch", "6");
    auto m = co_await sub.receive();
    BOOST_TEST((m.kind == credis::message_kind::message));
    BOOST_TEST(m.payload == "6");
}

BOOST_AUTO_TEST_CASE(subscriber_overflow_is_visible)
{
    with_redis(pubsub_overflow);
}

net::awaitable<void> pubsub_frozen(net::io_context& ioc, redis_server& srv)
{
    auto cfg = srv.config();
    cfg.command_timeout = 400ms;
    cfg.connect_timeout = 400ms;
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), cfg);
    sub.subscribe("revocations");
    sub.start();
    BOOST_REQUIRE(co_await wait_subscribed(pub, "revocations"));
    co_await sleep_for(1s); // several heartbeats answered: a live server is left alone
    BOOST_TEST(sub.connected());

    // The TCP connection stays up and nothing answers: only the heartbeat can tell.
    srv.signal(SIGSTOP);
    BOOST_TEST(co_await eventually([&] { return !sub.connected(); }, 10s));
    srv.signal(SIGCONT);

    auto marker = co_await sub.receive();
    BOOST_TEST((marker.kind == credis::message_kind::reconnected));
    BOOST_TEST(sub.connected());
    BOOST_REQUIRE(co_await eventually([&] { return pub.connected(); }, 15s));
    co_await pub.command("PUBLISH", "revocations", "after the freeze");
    auto m = co_await sub.receive();
    BOOST_TEST((m.kind == credis::message_kind::message));
    BOOST_TEST(m.payload == "after the freeze");
}

BOOST_AUTO_TEST_CASE(subscriber_notices_a_frozen_server_and_comes_back)
{
    with_redis(pubsub_frozen);
}

net::awaitable<void> pubsub_sync(net::io_context& ioc, redis_server& srv)
{
    credis::connection pub(ioc.get_executor(), srv.config());
    co_await start_and_wait(pub);
    credis::subscriber sub(ioc.get_executor(), srv.config());
    sub.start();
    BOOST_REQUIRE(co_await eventually([&] { return sub.connected(); }, 10s));
    // Once sync() says so, the channels subscribed before it are in effect: a message published right
    // after is received, every time.
    for (int i = 0; i < 20; ++i) {
        auto ch = "sync-" + std::to_string(i);
        sub.subscribe(ch);
        BOOST_TEST_REQUIRE(co_await sub.sync());
        co_await pub.command("PUBLISH", ch, "m" + std::to_string(i));
        auto m = co_await sub.receive();
        BOOST_TEST(m.channel == ch);
        BOOST_TEST(m.payload == "m" + std::to_string(i));
    }
    srv.kill();
    BOOST_REQUIRE(co_await eventually([&] { return !sub.connected(); }, 10s));
    BOOST_TEST(!(co_await sub.sync()));
}

BOOST_AUTO_TEST_CASE(subscriber_sync_waits_for_the_subscriptions_before_it)
{
    with_redis(pubsub_sync);
}

BOOST_AUTO_TEST_SUITE_END()
