#include "support/sanitizer_report.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iostream>

namespace test {

std::optional<std::string> find_sanitizer_report(std::string_view output)
{
    // What the sanitizer runtimes print first: "==<pid>==ERROR: AddressSanitizer: ..." (also
    // LeakSanitizer, and UndefinedBehaviorSanitizer on a deadly signal), "WARNING: ThreadSanitizer:
    // data race", "<file>:<line>:<col>: runtime error: ..." (UBSan), and the runtimes' own failures.
    static constexpr std::array markers{
        std::string_view("ERROR: AddressSanitizer"),
        std::string_view("ERROR: LeakSanitizer"),
        std::string_view("ERROR: UndefinedBehaviorSanitizer"),
        std::string_view("WARNING: ThreadSanitizer"),
        std::string_view("FATAL: ThreadSanitizer"),
        std::string_view(": runtime error: "),
        std::string_view("Sanitizer has encountered a fatal error"),
    };
    auto first = std::string_view::npos;
    for (auto marker : markers)
        first = std::min(first, output.find(marker));
    if (first == std::string_view::npos)
        return std::nullopt;
    auto line_start = output.rfind('\n', first);
    auto begin = line_start == std::string_view::npos ? 0 : line_start + 1;
    constexpr std::size_t max_report = 8192;
    return std::string(output.substr(begin, max_report));
}

bool fail_on_sanitizer_report(const std::string& program, const std::string& log_path, std::string_view output)
{
    auto report = find_sanitizer_report(output);
    if (!report)
        return false;
    auto what = "sanitizer report in the log of " + program + " (" + log_path + "):\n" + *report;
    if (!boost::unit_test::framework::test_in_progress()) {
        std::cerr << what << std::endl;
        std::abort();
    }
    BOOST_ERROR(what);
    return true;
}

} // namespace test
