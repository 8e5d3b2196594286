#include "common/redis/connection.hpp"
#include "common/redis/reply.hpp"

#include <boost/test/unit_test.hpp>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

using common::redis::from_hiredis;
using common::redis::parse_url;
using common::redis::reply;
using common::redis::reply_kind;

namespace {

// Feeds RESP bytes through hiredis's own parser, as the async context does, and converts the
// result.
reply parse_resp(std::string_view bytes)
{
    std::unique_ptr<redisReader, decltype(&redisReaderFree)> reader(
        redisReaderCreate(), &redisReaderFree
    );
    BOOST_REQUIRE(reader);
    BOOST_REQUIRE_EQUAL(redisReaderFeed(reader.get(), bytes.data(), bytes.size()), REDIS_OK);
    void* raw = nullptr;
    BOOST_REQUIRE_EQUAL(redisReaderGetReply(reader.get(), &raw), REDIS_OK);
    BOOST_REQUIRE_MESSAGE(raw != nullptr, "incomplete RESP input");
    std::unique_ptr<void, decltype(&freeReplyObject)> owned(raw, &freeReplyObject);
    return from_hiredis(static_cast<const redisReply*>(raw));
}

std::string invalid_url_message(std::string_view url)
{
    try {
        parse_url(url);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    BOOST_FAIL("parse_url accepted " << url);
    return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(redis_reply)

BOOST_AUTO_TEST_CASE(status_error_integer)
{
    auto ok = parse_resp("+OK\r\n");
    BOOST_TEST(ok.is_status());
    BOOST_TEST(ok.str == "OK");
    BOOST_TEST(ok.as_string() == "OK");

    auto err = parse_resp("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    BOOST_TEST(err.is_error());
    BOOST_TEST(err.str == "WRONGTYPE Operation against a key holding the wrong kind of value");

    auto n = parse_resp(":-42\r\n");
    BOOST_TEST(n.is_integer());
    BOOST_TEST(n.integer == -42);
    BOOST_TEST(n.as_integer() == -42);
    BOOST_TEST(parse_resp(":9223372036854775807\r\n").integer == 9223372036854775807LL);
}

BOOST_AUTO_TEST_CASE(bulk_strings_are_binary_safe)
{
    auto s = parse_resp(std::string_view("$5\r\na\0b\r\n\r\n", 11));
    BOOST_TEST(s.is_string());
    BOOST_TEST(s.str == std::string("a\0b\r\n", 5));

    auto empty = parse_resp("$0\r\n\r\n");
    BOOST_TEST(empty.is_string());
    BOOST_TEST(empty.str.empty());
}

BOOST_AUTO_TEST_CASE(nil_bulk_and_nil_array)
{
    BOOST_TEST(parse_resp("$-1\r\n").is_nil());
    BOOST_TEST(parse_resp("*-1\r\n").is_nil());
    BOOST_TEST(from_hiredis(nullptr).is_nil());
}

BOOST_AUTO_TEST_CASE(nested_arrays)
{
    // An EXEC-like reply: [1, "v", nil, [OK, (error) ERR x], []]
    auto r = parse_resp("*5\r\n:1\r\n$1\r\nv\r\n$-1\r\n*2\r\n+OK\r\n-ERR x\r\n*0\r\n");
    BOOST_REQUIRE(r.is_array());
    BOOST_REQUIRE_EQUAL(r.elements.size(), 5U);
    BOOST_TEST(r.elements[0].integer == 1);
    BOOST_TEST(r.elements[1].str == "v");
    BOOST_TEST(r.elements[2].is_nil());
    BOOST_REQUIRE(r.elements[3].is_array());
    BOOST_REQUIRE_EQUAL(r.elements[3].elements.size(), 2U);
    BOOST_TEST(r.elements[3].elements[0].is_status());
    BOOST_TEST(r.elements[3].elements[1].is_error());
    BOOST_TEST(r.elements[3].elements[1].str == "ERR x");
    BOOST_TEST(r.elements[4].is_array());
    BOOST_TEST(r.elements[4].elements.empty());
    BOOST_TEST(to_string(r) == "[1, \"v\", nil, [OK, (error) ERR x], []]");
}

BOOST_AUTO_TEST_CASE(typed_accessors_reject_other_kinds)
{
    auto s = parse_resp("$2\r\n12\r\n");
    try {
        (void)s.as_integer();
        BOOST_FAIL("as_integer accepted a string");
    } catch (const common::redis::error& e) {
        BOOST_TEST((e.kind() == common::redis::error_kind::unexpected_reply));
    }
    BOOST_CHECK_THROW((void)parse_resp(":1\r\n").as_string(), common::redis::error);
}

BOOST_AUTO_TEST_CASE(url_defaults)
{
    auto c = parse_url("redis://localhost");
    BOOST_TEST(c.host == "localhost");
    BOOST_TEST(c.port == 6379);
    BOOST_TEST(c.db == 0);
    BOOST_TEST(c.username.empty());
    BOOST_TEST(c.password.empty());

    auto bare = parse_url("redis://");
    BOOST_TEST(bare.host == "127.0.0.1");
    BOOST_TEST(bare.port == 6379);
}

BOOST_AUTO_TEST_CASE(url_port_db_password)
{
    auto c = parse_url("redis://10.0.0.5:6380/3");
    BOOST_TEST(c.host == "10.0.0.5");
    BOOST_TEST(c.port == 6380);
    BOOST_TEST(c.db == 3);

    auto p = parse_url("redis://:s%40cret@cache.internal:7000/");
    BOOST_TEST(p.host == "cache.internal");
    BOOST_TEST(p.port == 7000);
    BOOST_TEST(p.db == 0);
    BOOST_TEST(p.username.empty());
    BOOST_TEST(p.password == "s@cret");

    auto u = parse_url("REDIS://app:pw@[::1]:6379/15");
    BOOST_TEST(u.username == "app");
    BOOST_TEST(u.password == "pw");
    BOOST_TEST(u.host == "::1");
    BOOST_TEST(u.db == 15);
    BOOST_TEST(common::redis::describe(u) == "[::1]:6379");
}

BOOST_AUTO_TEST_CASE(url_rejects_bad_input_without_leaking_the_password)
{
    const std::string secret = "hunter2secret";
    struct bad
    {
        std::string url;
        std::string expect;
    };
    const bad cases[] = {
        {"http://:" + secret + "@host:6379", "scheme"},
        {"rediss://:" + secret + "@host:6379", "TLS"},
        {"redis://:" + secret + "@host:port", "port"},
        {"redis://:" + secret + "@host:0", "port"},
        {"redis://:" + secret + "@host:65536", "port"},
        {"redis://host:" + secret, "port"}, // a forgotten '@' puts the password in the port
        {"redis://:" + secret + "@host/x", "db"},
        {"redis://:" + secret + "@host/1/2", "db"},
        {"redis://:" + secret + "@host/-1", "db"},
        {"redis://:" + secret + "@host/1?timeout=1", "query"},
        {"redis://" + secret + "@host", "password"}, // user without password
        {"redis://user:@host", "password"},
        {"redis:" + secret, "redis://"},
        {"not a url " + secret, "redis://"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("url " << c.url)
        {
            auto msg = invalid_url_message(c.url);
            BOOST_TEST(
                msg.find(secret) == std::string::npos, "message leaks the password: " << msg
            );
            BOOST_TEST(
                msg.find(c.expect) != std::string::npos,
                "message does not mention " << c.expect << ": " << msg
            );
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
