// The live stream's cursor machine (services/gateway/src/live/stream_machine.cpp) driven the way
// live_stream drives it, in a world the input writes: events stored in four homes (seq order) and
// published on Redis, Redis outages that lose what is published meanwhile, MODE adding and removing the
// user's homes (with the notices the gateway publishes), answers that come late, fail, or time passing.
// Checked against a model of what must be delivered:
//  - events go in strictly increasing seq, each once, and only for homes the stream follows;
//  - no gaps: when an event goes, every stored event of a home the user held all along, above the
//    stream's start (`after`, or the top at open), below it, went before;
//  - once the world is quiet and every answer succeeds, all of them went (unless the stream closed).
//
// Input: byte 0 sets the store before the stream opens and `after`; each next byte is one happening.
#include "live/stream_machine.hpp"

#include "common/mode/event.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using gateway::live_message;
using gateway::stream_machine;
using kind = stream_machine::action::kind_t;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t me = 77;
const std::string user_id = "u1";

struct world
{
    stream_machine::clock::time_point now = stream_machine::clock::time_point{} + 10h;
    std::vector<std::pair<std::int64_t, std::int64_t>> store; // seq, home
    std::set<std::int64_t> mode_homes{1, 2, 3};               // what MODE says (4 never is the user's)
    std::set<std::int64_t> held_all_along{1, 2, 3};
    std::set<std::string> subscribed;
    bool outage = false;
    std::optional<stream_machine> m;
    std::optional<stream_machine::action> pending; // asked, not answered yet
    stream_machine::clock::time_point asked_at{};
    // What the client got.
    std::int64_t last_sent = 0;
    std::optional<std::int64_t> floor; // after, or the top at open (from the ready frame)
    bool closed = false;
};

std::string payload_of(std::int64_t home)
{
    return "{\"homeId\":" + std::to_string(home) + ",\"eventType\":\"tick\"}";
}

void publish(world& w, live_message msg)
{
    if (w.outage || w.closed || w.subscribed.count(msg.channel) == 0)
        return;
    msg.received = w.now;
    w.m->push(std::make_shared<const live_message>(std::move(msg)));
}

void store_event(world& w, std::int64_t home)
{
    const std::int64_t seq = static_cast<std::int64_t>(w.store.size()) + 1;
    w.store.emplace_back(seq, home);
    if (!w.m)
        return;
    live_message msg;
    msg.channel = common::mode::home_channel(home);
    msg.kind = live_message::kind_t::event;
    msg.seq = seq;
    msg.home = home;
    msg.payload = common::mode::live_event_json(seq, payload_of(home));
    publish(w, std::move(msg));
}

void delivered(world& w, std::int64_t seq, std::int64_t home)
{
    if (seq <= w.last_sent || home == 4 || w.m->homes().count(home) == 0)
        std::abort(); // out of order, repeated, or not the user's
    if (w.floor)
        for (const auto& [s, h] : w.store)
            if (s > std::max(w.last_sent, *w.floor) && s < seq && w.held_all_along.count(h) != 0)
                std::abort(); // a gap
    w.last_sent = seq;
}

void sent(world& w, const stream_machine::action& a)
{
    if (a.shared) {
        if (a.shared->kind == live_message::kind_t::event)
            delivered(w, a.shared->seq, a.shared->home);
        return;
    }
    auto v = boost::json::parse(a.text);
    const auto& o = v.as_object();
    const auto type = o.at("type").as_string();
    if (type == "event") {
        delivered(w, o.at("seq").as_int64(), o.at("homeId").as_int64());
    } else if (type == "ready") {
        if (!w.floor)
            w.floor = o.at("lastSeq").as_int64();
        w.last_sent = std::max(w.last_sent, o.at("lastSeq").as_int64());
    }
}

// live_stream's loop: take actions until one needs an answer, waits, or closes.
void drive(world& w)
{
    while (!w.closed && !w.pending) {
        auto a = w.m->next(w.now);
        switch (a.kind) {
        case kind::send:
            sent(w, a);
            break;
        case kind::subscribe:
            w.subscribed.insert(a.channels.begin(), a.channels.end());
            break;
        case kind::unsubscribe:
            for (const auto& c : a.channels)
                w.subscribed.erase(c);
            break;
        case kind::wait:
            return;
        case kind::close:
            w.closed = true;
            return;
        default:
            w.pending = std::move(a);
            w.asked_at = w.now;
            return;
        }
    }
}

void answer(world& w, bool ok, bool session_holds = true)
{
    if (!w.pending)
        return;
    auto a = std::move(*w.pending);
    w.pending.reset();
    switch (a.kind) {
    case kind::read_homes:
        if (ok)
            w.m->homes_read({w.mode_homes.begin(), w.mode_homes.end()}, w.asked_at);
        else
            w.m->homes_failed(w.now, 2s);
        break;
    case kind::sync_hub:
        w.m->hub_synced();
        break;
    case kind::read_top:
        if (ok)
            w.m->top_read(static_cast<std::int64_t>(w.store.size()));
        else
            w.m->store_failed(w.now, 1s);
        break;
    case kind::read_page:
        if (ok) {
            std::set<std::int64_t> homes(a.homes.begin(), a.homes.end());
            std::vector<stream_machine::row> rows;
            for (const auto& [s, h] : w.store)
                if (s > a.from && homes.count(h) != 0 && rows.size() < static_cast<std::size_t>(a.limit))
                    rows.emplace_back(s, payload_of(h));
            w.m->page_read(rows);
        } else {
            w.m->store_failed(w.now, 1s);
        }
        break;
    case kind::check_session:
        w.m->session_checked(session_holds);
        break;
    default:
        std::abort();
    }
}

void change_home(world& w, std::int64_t home, bool with_removal_notice)
{
    live_message note;
    note.channel = common::mode::user_channel(user_id);
    if (w.mode_homes.erase(home) != 0) {
        w.held_all_along.erase(home);
        if (with_removal_notice) {
            live_message removal;
            removal.channel = common::mode::home_channel(home);
            removal.kind = live_message::kind_t::member_removed;
            removal.home = home;
            removal.mode_user = me;
            publish(w, std::move(removal));
        }
    } else {
        w.mode_homes.insert(home);
    }
    note.kind = live_message::kind_t::homes_changed;
    publish(w, std::move(note));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    world w;
    for (int i = 0; i < data[0] % 8; ++i)
        store_event(w, 1 + i % 4);
    std::optional<std::int64_t> after;
    if ((data[0] / 8) % 4 != 0)
        after = (data[0] / 32) % 8;
    stream_machine::limits l;
    l.backlog = 6;
    l.page = 3;
    w.m.emplace(l, user_id, me, after, w.now);
    if (after)
        w.floor = after;
    w.last_sent = after.value_or(0);
    drive(w);

    for (std::size_t i = 1; i < size && !w.closed; ++i) {
        const unsigned op = data[i] % 8;
        const unsigned arg = data[i] / 8;
        switch (op) {
        case 0:
        case 1:
            store_event(w, 1 + arg % 4);
            break;
        case 2:
            answer(w, true);
            break;
        case 3:
            answer(w, arg % 4 != 0, arg != 1);
            break;
        case 4:
            w.now += std::chrono::milliseconds(250 * (arg + 1));
            break;
        case 5:
            if (w.outage) {
                w.outage = false;
                w.m->redis_lost(w.now, std::chrono::milliseconds(100 * (arg % 8)));
            } else {
                w.outage = true;
            }
            break;
        case 6:
            change_home(w, 2 + arg % 2, arg / 2 % 2 != 0);
            break;
        default:
            answer(w, true);
            break;
        }
        drive(w);
    }

    // The world goes quiet: the outage ends, every answer succeeds, time passes.
    if (w.outage && !w.closed) {
        w.outage = false;
        w.m->redis_lost(w.now, 0ms);
    }
    for (int steps = 0; steps < 200 && !w.closed; ++steps) {
        drive(w);
        if (w.pending) {
            answer(w, true);
            continue;
        }
        w.now += 1s;
    }
    if (!w.closed) {
        if (!w.floor)
            std::abort(); // never became ready
        for (const auto& [s, h] : w.store)
            if (s > *w.floor && s > w.last_sent && w.held_all_along.count(h) != 0)
                std::abort(); // never delivered
    }
    return 0;
}
