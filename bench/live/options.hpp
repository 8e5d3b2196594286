// mb-live's command line: the options, their usage text, and the parser that checks them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mblive {

enum class target_kind { gateway, relay };

struct options
{
    target_kind target = target_kind::gateway;
    unsigned short gateway_port = 0;
    unsigned short relay_port = 0;
    unsigned short ingest_port = 0;
    std::string tokens_file;
    std::size_t streams = 100;
    std::int64_t home = 0;
    double rate = 100;
    double duration_s = 10;
    double drain_s = 5;
    std::string sign_key;
    std::string sign_url;
    std::string ingest_path = "/v1/mode/events";
    std::size_t threads = 1;
    std::size_t senders = 0; // 0: chosen from the rate
    std::size_t connect_concurrency = 200;
    unsigned connect_attempts = 5;
    double open_timeout_s = 300;
    bool idle = false;
    double hold_s = 5;
    int watch_pid = 0;
    bool json_out = false;
    // Publish mode (--redis-url): events go straight into Redis as webhook-ingest publishes them after
    // storing them, from seq --first-seq on: the fan-out measured alone, without HTTP and the commit.
    std::string redis_url;
    std::int64_t first_seq = 0;
};

// Prints why and the usage to stderr, then exits with status 2.
[[noreturn]] void usage(const std::string& why);

// The options of argv; on anything missing or invalid, usage() (which exits).
options parse(int argc, char** argv);

} // namespace mblive
