// The guard of the sanitizer runs: a report in a child's log is found, and fails the test that started it.
#include "support/process.hpp"
#include "support/sanitizer_report.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

BOOST_AUTO_TEST_SUITE(sanitizer_report)

BOOST_AUTO_TEST_CASE(finds_each_sanitizers_first_line_and_what_follows)
{
    const std::string asan = "info listening\n==4242==ERROR: AddressSanitizer: heap-use-after-free on address "
                             "0x602000000010\n    #0 0x55 in common::web::session::on_read\n";
    auto found = test::find_sanitizer_report(asan);
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->rfind("==4242==ERROR: AddressSanitizer: heap-use-after-free", 0) == 0);
    BOOST_TEST(found->find("#0 0x55 in common::web::session::on_read") != std::string::npos);

    const std::string ubsan = "started\n../common/src/x.cpp:12:7: runtime error: signed integer overflow\n";
    found = test::find_sanitizer_report(ubsan);
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->rfind("../common/src/x.cpp:12:7: runtime error:", 0) == 0);

    BOOST_TEST(test::find_sanitizer_report("==7==ERROR: LeakSanitizer: detected memory leaks\n").has_value());
    BOOST_TEST(test::find_sanitizer_report("==================\nWARNING: ThreadSanitizer: data race (pid=9)\n")
                   .has_value());
    BOOST_TEST(test::find_sanitizer_report("==9==ERROR: UndefinedBehaviorSanitizer: SEGV on unknown address\n")
                   .has_value());
}

BOOST_AUTO_TEST_CASE(finds_nothing_in_an_ordinary_log)
{
    BOOST_TEST(!test::find_sanitizer_report("").has_value());
    BOOST_TEST(!test::find_sanitizer_report("level=error msg=\"redis: connection refused\"\n"
                                            "RuntimeError: boom\nerror: runtime limit reached\n")
                    .has_value());
}

BOOST_AUTO_TEST_CASE(a_childs_report_is_taken_from_its_log)
{
    // The child writes a report and lives on; taking the report is what keeps it from failing this test
    // when the process is killed at the end of the scope.
    test::process child({.argv = {"sh", "-c",
                                  "echo 'x.cpp:1:2: runtime error: load of misaligned address' >&2; exec sleep 30"},
                         .env = {}, .unset_env = {}, .log_path = {}});
    BOOST_REQUIRE(child.wait_for_output("runtime error:", std::chrono::seconds(10)));
    auto report = child.take_sanitizer_report();
    BOOST_REQUIRE(report.has_value());
    BOOST_TEST(report->find("load of misaligned address") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_clean_childs_log_has_no_report)
{
    test::process child({.argv = {"sh", "-c", "echo ready; exit 0"}, .env = {}, .unset_env = {}, .log_path = {}});
    BOOST_TEST(child.wait(std::chrono::seconds(10)).value_or(-1) == 0);
    BOOST_TEST(!child.take_sanitizer_report().has_value());
}

BOOST_AUTO_TEST_CASE(a_report_left_in_a_childs_log_fails_the_test)
{
    auto self = std::filesystem::read_symlink("/proc/self/exe").string();
    auto out = std::filesystem::temp_directory_path() / ("mb-sanitizer-probe-" + std::to_string(::getpid()) + ".log");
    auto command = "'" + self + "' --run_test=sanitizer_probe > '" +
                   out.string() + "' 2>&1";
    int status = std::system(command.c_str());
    std::stringstream text;
    text << std::ifstream(out).rdbuf();
    std::filesystem::remove(out);
    BOOST_TEST_INFO(text.str());
    BOOST_TEST(status != 0);
    BOOST_TEST(text.str().find("sanitizer report in the log of") != std::string::npos);
    BOOST_TEST(text.str().find("1 failure is detected") != std::string::npos);
    // The probe's log is kept for a post-mortem, as a real finding's would be: remove it.
    auto log = text.str().find("/mb-sh-");
    auto log_begin = text.str().rfind('(', log);
    auto log_end = text.str().find(')', log);
    BOOST_REQUIRE(log != std::string::npos && log_begin != std::string::npos && log_end != std::string::npos);
    BOOST_TEST(std::filesystem::remove(text.str().substr(log_begin + 1, log_end - log_begin - 1)));
}

BOOST_AUTO_TEST_SUITE_END()

// Run only by sanitizer_report/a_report_left_in_a_childs_log_fails_the_test, in a child test run: it must
// fail there. A suite of its own, disabled: running the sanitizer_report suite would enable a disabled case.
BOOST_AUTO_TEST_SUITE(sanitizer_probe, *boost::unit_test::disabled())

BOOST_AUTO_TEST_CASE(child_report_left_in_the_log)
{
    test::process child({.argv = {"sh", "-c", "echo 'x.cpp:3:4: runtime error: probe' >&2; exec sleep 30"},
                         .env = {}, .unset_env = {}, .log_path = {}});
    BOOST_TEST(child.wait_for_output("runtime error:", std::chrono::seconds(10)));
}

BOOST_AUTO_TEST_SUITE_END()
