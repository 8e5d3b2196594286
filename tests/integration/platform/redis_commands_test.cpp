// redis::connection against a real redis-server: commands, pipelines, scripts, error replies, AUTH.

#include "support/redis_harness.hpp"

using namespace redis_harness;

BOOST_AUTO_TEST_SUITE(redis)

net::awaitable<void> round_trip(net::io_context& ioc, redis_server& srv)
{
    auto cfg = srv.config();
    cfg.host = "localhost"; // exercises the asynchronous resolve
    credis::connection conn(ioc.get_executor(), cfg);
    co_await start_and_wait(conn);

    BOOST_TEST((co_await conn.command("SET", "k", "v")).str == "OK");
    auto got = co_await conn.command("GET", "k");
    BOOST_TEST(got.is_string());
    BOOST_TEST(got.str == "v");
    BOOST_TEST((co_await conn.command("GET", "missing")).is_nil());
    BOOST_TEST((co_await conn.command("INCR", "n")).as_integer() == 1);
    BOOST_TEST((co_await conn.command("INCR", "n")).as_integer() == 2);
    BOOST_TEST((co_await conn.command("EXPIRE", "n", 60)).as_integer() == 1);

    const std::string binary("a\0b\r\nc", 6);
    co_await conn.command("SET", "bin", binary);
    BOOST_TEST((co_await conn.command("GET", "bin")).str == binary);

    std::vector<std::vector<std::string>> batch;
    batch.push_back({"SET", "p", "1"});
    batch.push_back({"INCR", "p"});
    batch.push_back({"GET", "p"});
    batch.push_back({"EXPIRE", "p", "60"});
    auto replies = co_await conn.pipeline(std::move(batch));
    BOOST_REQUIRE_EQUAL(replies.size(), 4U);
    BOOST_TEST(replies[0].str == "OK");
    BOOST_TEST(replies[1].integer == 2);
    BOOST_TEST(replies[2].str == "2");
    BOOST_TEST(replies[3].integer == 1);

    auto lua =
        co_await conn.command("EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "ctr", 5);
    BOOST_TEST(lua.as_integer() == 5);

    // SELECT on connect: db 2 is separate from db 0.
    auto cfg2 = srv.config();
    cfg2.db = 2;
    credis::connection db2(ioc.get_executor(), cfg2);
    co_await start_and_wait(db2);
    BOOST_TEST((co_await db2.command("GET", "k")).is_nil());
    co_await db2.command("SET", "k", "in-db-2");
    BOOST_TEST((co_await conn.command("GET", "k")).str == "v");
}

BOOST_AUTO_TEST_CASE(round_trip_set_get_incr_pipeline_eval_select)
{
    with_redis(round_trip);
}

BOOST_AUTO_TEST_CASE(thousand_concurrent_commands_in_order_per_caller)
{
    redis_server srv;
    constexpr std::size_t callers = 8;
    constexpr std::size_t per_caller = 125;
    std::array<std::array<long long, per_caller>, callers> results{};
    std::array<std::array<bool, per_caller>, callers> on_strand{};
    std::atomic<std::size_t> done{0};
    std::atomic<int> failures{0};

    auto body = [&](net::io_context& ioc) -> net::awaitable<void> {
        credis::connection conn(ioc.get_executor(), srv.config());
        co_await start_and_wait(conn);
        for (std::size_t c = 0; c < callers; ++c) {
            auto strand = net::make_strand(ioc.get_executor());
            for (std::size_t i = 0; i < per_caller; ++i) {
                // Spawned in order on the caller's strand, so the INCRs are issued in order: the
                // i-th must see i+1 if replies are matched and ordered correctly.
                auto one = [&conn, &results, &on_strand, strand, c, i]() -> net::awaitable<void> {
                    auto r = co_await conn.command("INCR", "caller:" + std::to_string(c));
                    results[c][i] = r.integer;
                    on_strand[c][i] = strand.running_in_this_thread();
                };
                net::co_spawn(strand, one, [&](std::exception_ptr ep) {
                    failures += ep ? 1 : 0;
                    ++done;
                });
            }
        }
        BOOST_REQUIRE(co_await eventually([&] { return done == callers * per_caller; }, 20s));
    };
    run_async(body, 30s, 4);

    BOOST_TEST(failures.load() == 0);
    for (std::size_t c = 0; c < callers; ++c)
        for (std::size_t i = 0; i < per_caller; ++i) {
            BOOST_TEST_CONTEXT("caller " << c << " command " << i)
            {
                BOOST_TEST(results[c][i] == static_cast<long long>(i + 1));
                BOOST_TEST(on_strand[c][i]);
            }
        }
}

net::awaitable<void> error_reply(net::io_context& ioc, redis_server& srv)
{
    credis::connection conn(ioc.get_executor(), srv.config());
    co_await start_and_wait(conn);
    co_await conn.command("SET", "s", "abc");

    auto e = co_await failure_of(conn.command("INCR", "s"));
    BOOST_REQUIRE(e);
    BOOST_TEST(is(e, credis::error_kind::server), kind_of(e));
    BOOST_TEST(has(e->what(), "not an integer"), e->what());

    // pipeline() hands error replies back as replies.
    std::vector<std::vector<std::string>> batch;
    batch.push_back({"INCR", "s"});
    batch.push_back({"GET", "s"});
    auto replies = co_await conn.pipeline(std::move(batch));
    BOOST_TEST(replies.at(0).is_error());
    BOOST_TEST(replies.at(1).str == "abc");

    BOOST_TEST((co_await conn.command("PING")).str == "PONG"); // still usable
    BOOST_TEST(conn.connected());

    std::vector<std::string> empty;
    BOOST_CHECK_THROW(co_await conn.command(empty), std::invalid_argument);
    BOOST_CHECK_THROW(co_await conn.command("SUBSCRIBE", "x"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(error_reply_is_a_server_error_not_a_transport_failure)
{
    with_redis(error_reply);
}

const std::string test_password = "correct-horse-battery";

net::awaitable<void> auth(net::io_context& ioc, redis_server& srv)
{
    auto cfg = credis::parse_url(
        "redis://:" + test_password + "@127.0.0.1:" + std::to_string(srv.port()) + "/1"
    );
    credis::connection good(ioc.get_executor(), cfg);
    co_await start_and_wait(good);
    co_await good.command("SET", "k", "v");
    BOOST_TEST((co_await good.command("GET", "k")).str == "v");

    auto acl = credis::parse_url(
        "redis://default:" + test_password + "@127.0.0.1:" + std::to_string(srv.port())
    );
    credis::connection with_user(ioc.get_executor(), acl);
    co_await start_and_wait(with_user);

    auto bad_cfg = srv.config();
    bad_cfg.password = "wrong-password-value";
    credis::connection bad(ioc.get_executor(), bad_cfg);
    bad.start();
    BOOST_REQUIRE(co_await eventually([&] { return !bad.last_error().empty(); }));
    BOOST_TEST(!bad.connected());
    BOOST_TEST(has(bad.last_error(), "AUTH failed: WRONGPASS"), bad.last_error());
    auto e = co_await failure_of(bad.command("GET", "k"));
    BOOST_REQUIRE_MESSAGE(is(e, credis::error_kind::unavailable), kind_of(e));
    BOOST_TEST(has(e->what(), "WRONGPASS"), e->what());
    BOOST_TEST(!has(e->what(), bad_cfg.password), e->what());

    credis::connection none(ioc.get_executor(), srv.config());
    none.start();
    BOOST_REQUIRE(co_await eventually([&] { return !none.last_error().empty(); }));
    BOOST_TEST(has(none.last_error(), "NOAUTH"), none.last_error());
}

BOOST_AUTO_TEST_CASE(password_auth_and_wrong_password)
{
    with_redis(auth, {"--requirepass", test_password});
}

BOOST_AUTO_TEST_SUITE_END()
