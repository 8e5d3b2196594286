#include "options.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>

namespace mblive {

[[noreturn]] void usage(const std::string& why)
{
    std::cerr
        << "mb-live: " << why << "\n"
        << "usage: mb-live [--target gateway] --gateway-port P --tokens FILE    (streams: GET /v1/events)\n"
           "       mb-live --target relay --relay-port P                      (streams: /?home=ID, no token)\n"
           "  then --home ID and either\n"
           "       --ingest-port P --sign-key KEY --sign-url URL [--rate EVENTS_PER_S] [--duration S] [--drain S]\n"
           "       [--senders N] [--watch-pid PID] [--json]\n"
           "  or   --redis-url URL --first-seq N [--rate ...]   (publish into Redis as webhook-ingest does)\n"
           "  or   --idle [--hold S] [--json]   (open the streams, print how many are open, hold them S seconds)\n"
           "  common: [--streams N] [--threads N] [--connect-concurrency N] [--connect-attempts N]\n"
           "          [--open-timeout S]\n";
    std::exit(2);
}

options parse(int argc, char** argv)
{
    options o;
    std::map<std::string, std::string> kv;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--json") {
            o.json_out = true;
            continue;
        }
        if (a == "--idle") {
            o.idle = true;
            continue;
        }
        if (a == "--help" || a == "-h")
            usage("help");
        if (i + 1 >= argc)
            usage(a + " needs a value");
        kv[a] = argv[++i];
    }
    try {
        auto port = [](const std::string& v) {
            auto p = std::stoi(v);
            if (p <= 0 || p > 65535)
                throw std::invalid_argument("port");
            return static_cast<unsigned short>(p);
        };
        for (const auto& [k, v] : kv) {
            if (k == "--target") {
                if (v == "gateway")
                    o.target = target_kind::gateway;
                else if (v == "relay")
                    o.target = target_kind::relay;
                else
                    usage("--target: gateway or relay");
            } else if (k == "--gateway-port")
                o.gateway_port = port(v);
            else if (k == "--relay-port")
                o.relay_port = port(v);
            else if (k == "--ingest-port")
                o.ingest_port = port(v);
            else if (k == "--tokens")
                o.tokens_file = v;
            else if (k == "--streams")
                o.streams = std::stoul(v);
            else if (k == "--home")
                o.home = std::stoll(v);
            else if (k == "--rate")
                o.rate = std::stod(v);
            else if (k == "--duration")
                o.duration_s = std::stod(v);
            else if (k == "--drain")
                o.drain_s = std::stod(v);
            else if (k == "--sign-key")
                o.sign_key = v;
            else if (k == "--sign-url")
                o.sign_url = v;
            else if (k == "--ingest-path")
                o.ingest_path = v;
            else if (k == "--threads")
                o.threads = std::stoul(v);
            else if (k == "--senders")
                o.senders = std::stoul(v);
            else if (k == "--connect-concurrency")
                o.connect_concurrency = std::stoul(v);
            else if (k == "--connect-attempts")
                o.connect_attempts = static_cast<unsigned>(std::stoul(v));
            else if (k == "--open-timeout")
                o.open_timeout_s = std::stod(v);
            else if (k == "--hold")
                o.hold_s = std::stod(v);
            else if (k == "--redis-url")
                o.redis_url = v;
            else if (k == "--first-seq")
                o.first_seq = std::stoll(v);
            else if (k == "--watch-pid")
                o.watch_pid = std::stoi(v);
            else
                usage("unknown option " + k);
        }
    } catch (const std::exception&) {
        usage("a value is not a valid number");
    }
    if (o.home <= 0 || o.streams == 0 || o.threads == 0 || o.threads > 64 || o.connect_concurrency == 0 ||
        o.connect_attempts == 0 || o.open_timeout_s <= 0 || o.hold_s < 0)
        usage("missing or invalid options");
    if (o.target == target_kind::gateway && (o.gateway_port == 0 || o.tokens_file.empty()))
        usage("--target gateway needs --gateway-port and --tokens");
    if (o.target == target_kind::relay && o.relay_port == 0)
        usage("--target relay needs --relay-port");
    bool publish = !o.redis_url.empty();
    if (publish && o.first_seq <= 0)
        usage("--redis-url needs --first-seq (above every seq stored and published so far)");
    if (!o.idle && !publish && (o.ingest_port == 0 || o.sign_key.empty() || o.sign_url.empty()))
        usage("sending events needs --ingest-port, --sign-key and --sign-url, or --redis-url");
    if (!o.idle && (o.rate <= 0 || o.duration_s <= 0 || o.drain_s < 0))
        usage("sending events needs a positive --rate and --duration");
    if (publish)
        o.senders = 1; // one publisher keeps the seq order webhook-ingest keeps
    else if (o.senders == 0)
        o.senders = std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(o.rate / 50)), 4, 64);
    return o;
}

} // namespace mblive
