#include "support/process.hpp"

#include "support/sanitizer_report.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT: POSIX declares it nowhere in a header

namespace test {

namespace {

using namespace std::chrono_literals;

constexpr auto poll_interval = 10ms;

std::runtime_error sys_error(const std::string& what, int err)
{
    return std::runtime_error(what + ": " + std::strerror(err));
}

/** The parent's environment with the overrides and removals of `opts` applied, as "K=V" strings. */
std::vector<std::string> build_env(const process::options& opts)
{
    std::map<std::string, std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string_view::npos)
            env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    for (const auto& name : opts.unset_env)
        env.erase(name);
    for (const auto& [k, v] : opts.env)
        env[k] = v;
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto& [k, v] : env)
        out.push_back(k + "=" + v);
    return out;
}

/** argv[0] as an executable path: as given when it holds a '/', else searched on the child's PATH.
 */
std::string resolve_program(const std::string& name, const std::vector<std::string>& env)
{
    if (name.find('/') != std::string::npos)
        return name;
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& kv : env)
        if (kv.rfind("PATH=", 0) == 0)
            path = kv.substr(5);
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
        auto candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    throw std::runtime_error("process: program '" + name + "' not found on PATH");
}

std::vector<char*> c_strings(std::vector<std::string>& strings)
{
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

std::string fresh_log_path(const std::string& program)
{
    auto base = std::filesystem::path(program).filename().string();
    auto templ = (std::filesystem::temp_directory_path() / ("mb-" + base + "-XXXXXX.log")).string();
    int fd = ::mkstemps(templ.data(), 4);
    if (fd < 0)
        throw sys_error("process: cannot create a log file in the temp directory", errno);
    ::close(fd);
    return templ;
}

int decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/** In the forked child: only async-signal-safe calls until execve; failures go up the pipe. */
[[noreturn]] void
exec_child(int log_fd, int err_fd, pid_t parent, const char* prog, char** argv, char** envp)
{
    // Dies with the test executable (crash, ctest timeout) instead of lingering on its ports. Note:
    // this fires when the *thread* that spawned it ends, so spawn from the test's own thread.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
        ::_exit(127);
    // Its own process group: a signal meant for the process (or its group) never hits the test.
    ::setpgid(0, 0);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) {
        int e = errno;
        (void)!::write(err_fd, &e, sizeof e);
        ::_exit(127);
    }
    // Inherit nothing else (sockets, pipes of the test runner); err_fd is close-on-exec already.
    auto keep = static_cast<unsigned>(err_fd);
    if ((keep > 3 && ::close_range(3, keep - 1, 0) != 0) || ::close_range(keep + 1, ~0U, 0) != 0) {
        for (int fd = 3; fd < 1024; ++fd) // kernels before 5.9 have no close_range
            if (fd != err_fd)
                ::close(fd);
    }
    ::execve(prog, argv, envp);
    int e = errno;
    (void)!::write(err_fd, &e, sizeof e);
    ::_exit(127);
}

} // namespace

process::process(options opts)
{
    if (opts.argv.empty())
        throw std::invalid_argument("process: empty argv");
    auto env = build_env(opts);
    auto program = resolve_program(opts.argv.front(), env);
    auto argv = c_strings(opts.argv);
    auto envp = c_strings(env);
    program_ = program;

    if (opts.log_path.empty()) {
        log_path_ = fresh_log_path(program);
        owns_log_ = true;
    } else {
        log_path_ = opts.log_path;
    }
    auto fail = [this](const std::string& what, int err) {
        if (owns_log_) {
            std::error_code ec;
            std::filesystem::remove(log_path_, ec);
        }
        return sys_error(what, err);
    };
    // Truncated: a restarted service writing to the same path must not match its old output.
    int log_fd =
        ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
        throw fail("process: cannot open log " + log_path_, errno);

    // Close-on-exec pipe: EOF means exec succeeded, an int on it is the child's errno.
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        int e = errno;
        ::close(log_fd);
        throw fail("process: pipe", e);
    }
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0)
        exec_child(log_fd, err_pipe[1], parent, program.c_str(), argv.data(), envp.data());
    int fork_errno = errno;
    ::close(log_fd);
    ::close(err_pipe[1]);
    if (pid < 0) {
        ::close(err_pipe[0]);
        throw fail("process: fork", fork_errno);
    }
    int child_errno = 0;
    ssize_t n = 0;
    do {
        n = ::read(err_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(err_pipe[0]);
    pid_ = pid;
    if (n > 0) {
        reap_now();
        throw fail("process: cannot start " + program, child_errno);
    }
}

process::~process()
{
    reap_now();
    check_sanitizer_report();
    if (owns_log_ && std::getenv("MB_TEST_KEEP_LOGS") == nullptr) {
        std::error_code ec;
        std::filesystem::remove(log_path_, ec);
    }
}

process::process(process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1))
    , exit_code_(std::exchange(other.exit_code_, std::nullopt))
    , log_path_(std::move(other.log_path_))
    , owns_log_(std::exchange(other.owns_log_, false))
    , program_(std::move(other.program_))
    , report_checked_(std::exchange(other.report_checked_, true))
{}

process& process::operator=(process&& other) noexcept
{
    if (this != &other) {
        process old(std::move(*this)); // kills and cleans up what this held, at the end of scope
        pid_ = std::exchange(other.pid_, -1);
        exit_code_ = std::exchange(other.exit_code_, std::nullopt);
        log_path_ = std::move(other.log_path_);
        owns_log_ = std::exchange(other.owns_log_, false);
        program_ = std::move(other.program_);
        report_checked_ = std::exchange(other.report_checked_, true);
    }
    return *this;
}

void process::reap_now()
{
    if (pid_ <= 0 || exit_code_)
        return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t r = 0;
    do {
        r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    exit_code_ = r == pid_ ? decode_status(status) : -1;
}

bool process::running()
{
    if (pid_ <= 0 || exit_code_)
        return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        exit_code_ = decode_status(status);
        check_sanitizer_report();
        return false;
    }
    if (r < 0 && errno == ECHILD) { // reaped elsewhere (a SIGCHLD handler): treat as gone
        exit_code_ = -1;
        return false;
    }
    return true;
}

void process::terminate()
{
    if (running())
        ::kill(pid_, SIGTERM);
}

void process::send_signal(int signal)
{
    if (running())
        ::kill(pid_, signal);
}

void process::kill()
{
    if (running())
        ::kill(pid_, SIGKILL);
}

std::optional<int> process::wait(std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(poll_interval);
    }
    return exit_code_;
}

std::optional<std::string> process::take_sanitizer_report()
{
    report_checked_ = true;
    return find_sanitizer_report(output());
}

void process::check_sanitizer_report()
{
    if (pid_ <= 0 || report_checked_)
        return;
    report_checked_ = true;
    if (fail_on_sanitizer_report(program_, log_path_, output()))
        owns_log_ = false; // kept for the post-mortem
}

std::string process::output() const
{
    std::ifstream in(log_path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool process::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        // Read "running" first: output written just before the exit is then still seen below.
        bool alive = running();
        if (output().find(needle) != std::string::npos)
            return true;
        if (!alive || std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(poll_interval * 2);
    }
}

namespace {

sockaddr_in loopback(unsigned short port)
{
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

} // namespace

unsigned short free_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw sys_error("free_port: socket", errno);
    auto addr = loopback(0);
    socklen_t len = sizeof addr;
    // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API takes sockaddr*
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
              ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
    int e = errno;
    ::close(fd);
    if (!ok)
        throw sys_error("free_port: bind 127.0.0.1:0", e);
    return ntohs(addr.sin_port);
}

bool wait_for_port(unsigned short port, std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw sys_error("wait_for_port: socket", errno);
        auto addr = loopback(port);
        // A loopback connect to a closed port is refused at once, so the blocking call cannot hang.
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
        bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (ok)
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(poll_interval * 2);
    }
}

} // namespace test
