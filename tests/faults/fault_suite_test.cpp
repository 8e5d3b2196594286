// The fault suite: while events stream through webhook-ingest to members' live streams on two gateways and
// apps make requests, each part is killed (-9) and restarted in turn, then frozen (SIGSTOP) for longer than
// every timeout. Afterwards: every acknowledged event is stored once and reached every member's stream once
// (live or by resume), every request was answered in time (503/504 where a part was down), nothing crashed,
// memory settled. The table it prints is the one in docs/reliability.md (scripts/reliability.sh).
//
// It kills the shared test stack's PostgreSQL, so ctest runs it alone (RUN_SERIAL); its Redis is its own.
#include "fault_tally.hpp"
#include "fault_traffic.hpp"

#include "support/account_flow.hpp"
#include "support/deployment.hpp"
#include "support/redis_server.hpp"
#include "support/resuming_client.hpp"
#include "support/wait.hpp"
#include "support/webhook.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

using namespace common::aliases;
using namespace std::chrono_literals;

namespace {

struct member
{
    std::string token;
    std::int64_t home = 0;
};

struct fault
{
    std::string name;
    std::function<void()> inject;
    std::function<void()> recover;
    std::chrono::milliseconds hold;
};

double seconds_since(faults::clock::time_point t)
{
    return std::chrono::duration<double>(faults::clock::now() - t).count();
}

// A verified user, linked to MODE (the link is made in the background after verification).
std::string linked_user(test::running_service& gw, const std::string& who)
{
    auto token = test::verified_login(gw, test::unique_email(who));
    BOOST_TEST_REQUIRE(test::eventually(
        [&] {
            auto me = test::get_with(gw, "/v1/me", token);
            return me.status == 200U && me.json().at("user").at("mode").as_object().contains("userId");
        },
        20s));
    return token;
}

} // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(acknowledged_events_survive_every_part_killed_or_frozen_in_turn)
{
    test::redis_server redis;
    const auto redis_url = "redis://127.0.0.1:" + std::to_string(redis.port());
    const auto state_file = std::filesystem::temp_directory_path() /
                            ("mb-fault-sim-" + std::to_string(::getpid()) + ".json");
    std::filesystem::remove(state_file);
    test::deployment_options o;
    o.gateways = 2;
    o.ingests = 1;
    // Timeouts short enough that a frozen part outlasts every one of them.
    o.gateway_env = {{"MB_REDIS_URL", redis_url}, {"MB_DB_TIMEOUT", "2s"}, {"MB_MODE_TIMEOUT", "2s"},
                     {"MB_MAX_CONNECTIONS_PER_ADDRESS", "0"}};
    o.ingest_env = {{"MB_REDIS_URL", redis_url}, {"MB_DB_TIMEOUT", "2s"}, {"MB_MAX_CONNECTIONS_PER_ADDRESS", "0"}};
    o.sim_env = {{"MODESIM_STATE_FILE", state_file.string()}, {"MODESIM_LOG_LEVEL", "warn"}};
    test::deployment d(o);

    // Three homes, each with its owner and one member; each of the six holds a stream, half of them on each
    // gateway (and moving to the other when theirs goes away, as behind a load balancer).
    std::vector<member> members;
    std::vector<std::int64_t> homes;
    for (int h = 0; h < 3; ++h) {
        auto owner = linked_user(d.gw(), "fault-owner");
        auto made = test::post_json(d.gw(), "/v1/homes", {{"name", "Fault home"}}, owner);
        BOOST_TEST_REQUIRE(made.status == 201U, made);
        auto home = made.json().at("id").as_int64();
        auto guest_email = test::unique_email("fault-member");
        auto guest = test::verified_login(d.gw(), guest_email);
        BOOST_TEST_REQUIRE(test::eventually(
            [&] {
                return test::post_json(d.gw(), "/v1/homes/" + std::to_string(home) + "/members",
                                       {{"email", guest_email}, {"role", "member"}}, owner)
                           .status == 201U;
            },
            20s));
        homes.push_back(home);
        members.push_back({owner, home});
        members.push_back({guest, home});
    }
    const unsigned short gw0 = d.gw(0).port;
    const unsigned short gw1 = d.gw(1).port;
    std::vector<std::unique_ptr<test::resuming_client>> streams;
    for (std::size_t i = 0; i < members.size(); ++i) {
        test::resuming_options ro;
        ro.random_drops = false; // the faults are the disruption
        ro.seed = static_cast<unsigned>(i + 1);
        std::vector<unsigned short> order = i % 2 == 0 ? std::vector<unsigned short>{gw0, gw1}
                                                       : std::vector<unsigned short>{gw1, gw0};
        streams.push_back(std::make_unique<test::resuming_client>(order, members[i].token, ro));
    }
    BOOST_TEST_REQUIRE(test::eventually(
        [&] {
            for (const auto& s : streams)
                if (!s->start())
                    return false;
            return true;
        },
        20s));

    faults::traffic_book book;
    book.set_phase(-1); // warm-up: counted nowhere
    std::atomic<unsigned short> ingest_port{d.ingest().port};
    std::atomic<unsigned short> gw_ports[2] = {{gw0}, {gw1}};
    std::vector<std::string> tokens;
    for (const auto& m : members)
        tokens.push_back(m.token);
    auto sender = std::make_unique<faults::event_sender>(book, ingest_port, homes, 40);
    // Two apps at once, so one request held up by a frozen part does not stop the others.
    auto apps = std::make_unique<faults::requester>(book, gw_ports, tokens, 10s);
    auto more_apps = std::make_unique<faults::requester>(book, gw_ports, std::vector<std::string>(tokens.rbegin(), tokens.rend()), 10s);
    std::this_thread::sleep_for(2s);
    const long gw0_rss_before = faults::rss_kib(d.gw(0).proc->pid());

    auto restart_gateway = [&](std::size_t i) {
        auto env = d.gw(i).env;
        d.gateways[i] = test::start_gateway(env.at("MB_DATABASE_URL"), env.at("MB_MODE_API_URL"), env);
    };
    auto restart_ingest = [&] {
        auto env = d.ingest().env;
        d.ingests[0] = test::start_ingest(env.at("MB_DATABASE_URL"), env);
    };
    auto restart_sim = [&] { d.sim = test::start_mode_sim(d.sim.env); };
    std::vector<fault> plan{
        {"Redis: kill -9, restart (empty)", [&] { redis.kill(); }, [&] { redis.start(); }, 3s},
        {"PostgreSQL: kill -9, restart", [] { test::stack_ctl("kill-pg"); }, [] { test::stack_ctl("start-pg"); }, 3s},
        {"MODE emulator: kill -9, restart", [&] { d.sim.proc->kill(); }, restart_sim, 3s},
        {"webhook-ingest: kill -9, restart", [&] { d.ingest().proc->kill(); }, restart_ingest, 3s},
        {"one gateway: kill -9, restart", [&] { d.gw(1).proc->kill(); }, [&] { restart_gateway(1); }, 3s},
        {"Redis: SIGSTOP 6 s", [&] { redis.signal(SIGSTOP); }, [&] { redis.signal(SIGCONT); }, 6s},
        {"PostgreSQL: SIGSTOP 6 s", [] { test::stack_ctl("freeze-pg"); }, [] { test::stack_ctl("thaw-pg"); }, 6s},
        {"MODE emulator: SIGSTOP 6 s", [&] { d.sim.proc->send_signal(SIGSTOP); },
         [&] { d.sim.proc->send_signal(SIGCONT); }, 6s},
        {"one gateway: SIGSTOP 6 s", [&] { d.gw(1).proc->send_signal(SIGSTOP); },
         [&] { d.gw(1).proc->send_signal(SIGCONT); }, 6s},
    };

    // Whole again: every service ready, an event acknowledged, a request answered through each gateway.
    auto whole = [&] {
        for (auto* s : {&d.gw(0), &d.gw(1), &d.ingest()})
            if (!test::wait_until_ready(*s, 1s))
                return false;
        auto n = book.new_event(homes[0]);
        bool acked = false;
        try {
            acked = test::post_signed_event(d.ingest(), faults::event_body(homes[0], n), test::webhook_key,
                                            test::webhook_url, {}, 2s)
                        .status == 204U;
        } catch (const std::exception&) {
        }
        book.attempted(n, acked);
        if (!acked) // the sender's retries would leave it to the next phase: post it until it is taken
            return false;
        for (auto port : {gw0, gw1})
            if (test::http_call(port, http::verb::get, "/v1/homes", {}, {{"Authorization", "Bearer " + tokens[0]}}, 5s)
                    .status != 200U)
                return false;
        return true;
    };

    std::vector<faults::fault_row> rows;
    for (std::size_t p = 0; p < plan.size(); ++p) {
        const auto& f = plan[p];
        BOOST_TEST_CONTEXT("fault: " << f.name)
        {
            book.set_phase(static_cast<int>(p));
            faults::fault_row row;
            row.fault = f.name;
            const auto phase_start = faults::clock::now();
            std::this_thread::sleep_for(1s);
            f.inject();
            std::this_thread::sleep_for(f.hold);
            const auto back = faults::clock::now();
            f.recover();
            bool recovered = test::eventually(
                [&] {
                    try {
                        return whole();
                    } catch (const std::exception&) {
                        return false;
                    }
                },
                60s);
            BOOST_TEST_REQUIRE(recovered, "not whole again within 60 s");
            row.recovery = seconds_since(back);
            std::this_thread::sleep_for(1s);
            row.seconds = seconds_since(phase_start);
            rows.push_back(row);
        }
    }
    book.set_phase(-1);
    apps->stop();
    more_apps->stop();
    BOOST_TEST_REQUIRE(sender->drain(60s), "events still unacknowledged a minute after the last fault");

    // Every stream catches up with every stored event of its home.
    auto stored = faults::read_stored(d.db.url());
    std::map<std::int64_t, std::int64_t> last_of_home;
    for (const auto& s : stored)
        last_of_home[s.home] = std::max(last_of_home[s.home], s.seq);
    bool caught_up = test::eventually(
        [&] {
            for (std::size_t i = 0; i < members.size(); ++i) {
                auto got = streams[i]->received();
                auto want = last_of_home[members[i].home];
                if (std::find(got.begin(), got.end(), want) == got.end())
                    return false;
            }
            return true;
        },
        30s);
    std::this_thread::sleep_for(500ms); // anything doubled after the last event arrives now
    std::vector<faults::stream_record> records;
    int connections = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
        connections += streams[i]->connections();
        streams[i]->stop();
        BOOST_TEST(streams[i]->failure().empty(), streams[i]->failure());
        records.push_back({members[i].home, streams[i]->received()});
    }
    faults::tally(rows, book, stored, records);

    std::ostringstream report;
    faults::print_table(report, rows);
    report << "\n" << members.size() << " member streams, opened " << connections
           << " times in all (each reconnection resumed with `after`).\n";

    BOOST_TEST(caught_up, "a stream did not catch up with its home's last event within 30 s");
    for (const auto& r : rows)
        BOOST_TEST_CONTEXT("fault: " << r.fault)
        {
            BOOST_TEST(r.acked == r.sent);
            BOOST_TEST(r.stored == r.acked);
            BOOST_TEST(r.lost == 0);
            BOOST_TEST(r.doubled == 0);
            BOOST_TEST(r.delivered == 2 * r.acked); // two members per home
            BOOST_TEST(r.requests.unanswered == 0);
            BOOST_TEST(r.requests.wrong == 0, "e.g. " << (r.requests.wrong_answers.empty() ? "" : r.requests.wrong_answers[0]));
            BOOST_TEST(r.requests.answered > 0);
            if (r.fault.find("gateway") == std::string::npos)
                BOOST_TEST(r.requests.down == 0);
        }

    // Nothing crashed; memory settled.
    for (auto* s : {&d.gw(0), &d.gw(1), &d.ingest(), &d.sim})
        BOOST_TEST(s->proc->running(), "exited:\n" << s->proc->output().substr(0, 2000));
    std::this_thread::sleep_for(2s);
    const long gw0_rss_after = faults::rss_kib(d.gw(0).proc->pid());
    report << "The gateway that stayed up: " << gw0_rss_before / 1024 << " MiB resident before the faults, "
           << gw0_rss_after / 1024 << " MiB two seconds after the traffic stopped.\n";
    BOOST_TEST(gw0_rss_after < 2 * gw0_rss_before + 64 * 1024);
    std::cout << "\n" << report.str();
    // scripts/reliability.sh puts it in docs/reliability.md.
    if (const char* out = std::getenv("MB_FAULT_REPORT"); out != nullptr && *out != '\0')
        std::ofstream(out) << report.str();
    std::filesystem::remove(state_file);
}

BOOST_AUTO_TEST_SUITE_END()
