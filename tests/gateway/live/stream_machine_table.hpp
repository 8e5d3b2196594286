#pragma once

// The table harness of the stream machine's tests: a stream driven by steps (an input, and the actions
// it must produce in a few words), and the inputs the tables use.
#include "live/stream_machine.hpp"

#include "common/mode/event.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace stream_table {

using gateway::live_message;
using gateway::stream_machine;
using clock_type = stream_machine::clock;
using namespace std::chrono_literals;
using kind = stream_machine::action::kind_t;

inline constexpr std::int64_t me = 77; // the user's MODE user

// An action in a few words: "event 5", "added 3", "removed 3", "ready 9 [1,2]", "sub h1,u", "unsub h2",
// "homes", "sync", "top", "page 1,2>5", "session", "wait", "close 4008".
inline std::string describe(const stream_machine::action& a)
{
    auto homes_of = [](const std::vector<std::string>& channels) {
        std::string out;
        for (const auto& ch : channels) {
            if (!out.empty())
                out += ',';
            auto h = common::mode::home_of_channel(ch);
            out += h ? "h" + std::to_string(*h) : "u";
        }
        return out;
    };
    switch (a.kind) {
    case kind::send: {
        const auto& text = a.shared ? a.shared->payload : a.text;
        auto v = boost::json::parse(text).as_object();
        auto type = std::string(v.at("type").as_string());
        if (type == "event")
            return "event " + std::to_string(v.at("seq").as_int64());
        if (type == "home.added")
            return "added " + std::to_string(v.at("homeId").as_int64());
        if (type == "home.removed")
            return "removed " + std::to_string(v.at("homeId").as_int64());
        if (type == "ready")
            return "ready " + std::to_string(v.at("lastSeq").as_int64()) + " " + boost::json::serialize(v.at("homes"));
        return "note " + type;
    }
    case kind::subscribe: return "sub " + homes_of(a.channels);
    case kind::unsubscribe: return "unsub " + homes_of(a.channels);
    case kind::read_homes: return "homes";
    case kind::sync_hub: return "sync";
    case kind::read_top: return "top";
    case kind::read_page: {
        std::string hs;
        for (auto h : a.homes)
            hs += (hs.empty() ? "" : ",") + std::to_string(h);
        return "page " + hs + ">" + std::to_string(a.from);
    }
    case kind::check_session: return "session";
    case kind::wait: return "wait";
    case kind::close: return "close " + std::to_string(a.code);
    }
    return "?";
}

inline std::shared_ptr<const live_message> event(std::int64_t home, std::int64_t seq)
{
    auto m = std::make_shared<live_message>();
    m->channel = common::mode::home_channel(home);
    m->kind = live_message::kind_t::event;
    m->home = home;
    m->seq = seq;
    m->payload = common::mode::live_event_json(seq, R"({"homeId":)" + std::to_string(home) + "}");
    return m;
}

inline std::shared_ptr<const live_message> on_home(live_message::kind_t k, std::int64_t home, std::int64_t mode_user = 0)
{
    auto m = std::make_shared<live_message>();
    m->channel = common::mode::home_channel(home);
    m->kind = k;
    m->home = home;
    m->mode_user = mode_user;
    m->payload = "{}";
    return m;
}

inline std::shared_ptr<const live_message> for_user(live_message::kind_t k, bool reload, std::string type,
                                             clock_type::time_point received = {})
{
    auto m = std::make_shared<live_message>();
    m->channel = common::mode::user_channel("u1");
    m->kind = k;
    m->reload = reload;
    m->payload = R"({"type":")" + type + R"("})";
    m->received = received; // by default before any read of the homes in these tables
    return m;
}

inline std::vector<stream_machine::row> rows(std::initializer_list<std::int64_t> seqs)
{
    std::vector<stream_machine::row> out;
    for (auto s : seqs)
        out.emplace_back(s, "{}");
    return out;
}

// One stream driven by a table: each step is an input and the actions it must produce.
struct harness
{
    explicit harness(std::optional<std::int64_t> after = std::nullopt, stream_machine::limits l = limits())
        : now(clock_type::now())
        , m(l, "u1", me, after, now)
    {
    }

    static stream_machine::limits limits()
    {
        stream_machine::limits l;
        l.backlog = 4;
        l.recheck = 60s;
        l.max_age = 5min;
        l.session_check = 5s;
        l.page = 3;
        return l;
    }

    // Drains next() until an action that needs a result, a wait or a close.
    std::string drain()
    {
        std::string out;
        for (int i = 0; i < 100; ++i) {
            auto a = m.next(now);
            out += (out.empty() ? "" : "; ") + describe(a);
            if (a.kind != kind::send && a.kind != kind::subscribe && a.kind != kind::unsubscribe)
                return out;
        }
        return out + "; ...";
    }

    clock_type::time_point now;
    stream_machine m;
};

using step = std::pair<std::function<void(harness&)>, std::string>;

inline void play(harness& h, const std::vector<step>& table)
{
    int n = 0;
    for (const auto& [input, expected] : table) {
        ++n;
        if (input)
            input(h);
        auto got = h.drain();
        BOOST_TEST(got == expected, "step " << n << ": got \"" << got << "\", want \"" << expected << "\"");
    }
}

// Inputs.
inline auto homes(std::vector<std::int64_t> list)
{
    return [list](harness& h) { h.m.homes_read(list, h.now); };
}
inline auto homes_fail()
{
    return [](harness& h) { h.m.homes_failed(h.now, 1s); };
}
inline auto synced()
{
    return [](harness& h) { h.m.hub_synced(); };
}
inline auto top(std::int64_t t)
{
    return [t](harness& h) { h.m.top_read(t); };
}
inline auto page(std::initializer_list<std::int64_t> seqs)
{
    auto r = rows(seqs);
    return [r](harness& h) { h.m.page_read(r); };
}
inline auto store_fail()
{
    return [](harness& h) { h.m.store_failed(h.now, 1s); };
}
inline auto push(std::shared_ptr<const live_message> msg)
{
    return [msg](harness& h) { h.m.push(msg); };
}
inline auto pushes(std::vector<std::shared_ptr<const live_message>> msgs)
{
    return [msgs](harness& h) {
        for (const auto& msg : msgs)
            h.m.push(msg);
    };
}
inline auto lost()
{
    return [](harness& h) { h.m.redis_lost(h.now, 0ms); };
}
inline auto later(clock_type::duration d)
{
    return [d](harness& h) { h.now += d; };
}
inline auto session(bool holds)
{
    return [holds](harness& h) { h.m.session_checked(holds); };
}

// Two inputs in one step: something that happens while a result is awaited, then the result.
inline auto both(std::function<void(harness&)> a, std::function<void(harness&)> b)
{
    return [a, b](harness& h) {
        a(h);
        b(h);
    };
}

// The opening every live case starts from: homes 1 and 2, live from seq 10.
inline const std::vector<step> opened = {
    {nullptr, "homes"},
    {homes({1, 2}), "sub h1,h2,u; sync"},
    {synced(), "top"},
    {top(10), "ready 10 [1,2]; wait"},
};

inline std::vector<step> then(std::vector<step> a, const std::vector<step>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace stream_table

