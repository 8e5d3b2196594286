#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace test {

/**
 * A child process started by a test (a service binary, redis-server, ...). Its stdout and stderr go to
 * one log file, readable at any time with `output()`. The destructor kills it (SIGKILL) if it still runs.
 * Once it has exited (seen by `running()`, `wait()`, ... or the destructor), a sanitizer report in its log
 * (a service built with MB_SANITIZE) fails the running test, and the log is kept.
 * Not thread-safe; use from the test's thread.
 */
class process
{
public:
    struct options
    {
        std::vector<std::string> argv;              // argv[0] is the program (path or name on PATH)
        std::map<std::string, std::string> env;     // added to / overriding the test's environment
        std::vector<std::string> unset_env;         // removed from the inherited environment
        std::string log_path;                       // empty: a fresh file under the temp directory
    };

    explicit process(options opts); // throws std::runtime_error when it cannot start
    ~process();
    process(process&&) noexcept;
    process& operator=(process&&) noexcept;

    int pid() const { return pid_; }
    bool running();
    /** Sends SIGTERM (graceful) / SIGKILL. */
    void terminate();
    /** Sends `signal` (SIGHUP: reload) if it is still running. */
    void send_signal(int signal);
    void kill();
    /** Waits for the exit; returns the exit code (128+signal when killed), or nullopt on timeout. */
    std::optional<int> wait(std::chrono::milliseconds timeout);
    /** Everything the process wrote so far. */
    std::string output() const;
    /** Waits until `needle` appears in the output; false on timeout or when the process exits first. */
    bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout);
    const std::string& log_path() const { return log_path_; }
    /** The sanitizer report in the output so far, which then no longer fails the test: for a test that
        expects one. */
    std::optional<std::string> take_sanitizer_report();

private:
    void reap_now(); // SIGKILL if still running, then waitpid
    void check_sanitizer_report(); // once, after the exit

    int pid_ = -1;
    std::optional<int> exit_code_;
    std::string log_path_;
    bool owns_log_ = false; // a temp log we created: removed by the destructor unless MB_TEST_KEEP_LOGS
    std::string program_;
    bool report_checked_ = false;
};

/** A TCP port on 127.0.0.1 that was free a moment ago. */
unsigned short free_port();

/** Waits until 127.0.0.1:port accepts connections. */
bool wait_for_port(unsigned short port, std::chrono::milliseconds timeout);

} // namespace test
