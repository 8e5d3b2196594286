#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace test {

/**
 * The first sanitizer report in a process's output: AddressSanitizer, LeakSanitizer, ThreadSanitizer
 * or an UndefinedBehaviorSanitizer "runtime error:", from the start of its line, at most 8 KiB of it
 * (its stack and summary); nullopt when the output holds none. A service built with MB_SANITIZE
 * writes its reports to stderr, which `test::process` sends to the service's log.
 */
std::optional<std::string> find_sanitizer_report(std::string_view output);

/**
 * When `output` (of `program`, logged at `log_path`) holds a sanitizer report, fails the running test
 * with it (outside any test: prints it and aborts) and returns true.
 */
bool fail_on_sanitizer_report(const std::string& program, const std::string& log_path, std::string_view output);

} // namespace test
