// mb-load: HTTP load generator for modebridge's benchmarks. See bench/README.md.

#include "common/log.hpp"
#include "load_runner.hpp"
#include "options.hpp"
#include "request_factory.hpp"
#include "stats.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace {

constexpr int exit_no_success = 1;
constexpr int exit_usage = 2;

int usage_failure(const std::exception& e)
{
    fmt::print(stderr, "mb-load: {}\nTry 'mb-load --help'.\n", e.what());
    return exit_usage;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace bench::load;
    common::log::init("mb-load", common::log::level::warn);
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        auto opts = parse_options(args);
        if (!opts) {
            fmt::print("{}", usage_text());
            return 0;
        }
        request_factory factory(*opts);
        load_runner runner(*opts, factory);
        run_result result = runner.run();
        fmt::print("{}", opts->json ? format_json(*opts, result) : format_text(*opts, result));
        std::fflush(stdout);
        return result.totals.succeeded() > 0 ? 0 : exit_no_success;
    } catch (const usage_error& e) {
        return usage_failure(e);
    } catch (const std::exception& e) {
        fmt::print(stderr, "mb-load: {}\n", e.what());
        return exit_no_success;
    }
}
