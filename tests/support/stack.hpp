#pragma once

// What integration tests use to reach the PostgreSQL, Redis and SMTP sink that scripts/test.sh
// starts with scripts/stack.sh, through the environment it exports (`scripts/stack.sh env <dir>`).
// Everything here is for the test's own thread; nothing is meant to be shared between threads.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace test {

/**
 * The value of environment variable `name`; throws std::runtime_error naming the variable (and
 * saying to run the tests through scripts/test.sh) when it is unset or empty. Values are read once
 * and cached.
 */
const std::string& env_or_fail(const char* name);

/** MB_DATABASE_URL: the app role on database `modebridge` (prefer a scratch_database per test). */
std::string database_url();
/** MB_TEST_PG_ADMIN_URL: the superuser on database `postgres`. */
std::string admin_url();
/** MB_REDIS_URL, e.g. `redis://127.0.0.1:6379`. */
std::string redis_url();
/** MB_SMTP_URL, e.g. `smtp://127.0.0.1:2525`. */
std::string smtp_url();
/** MB_TEST_MAIL_DIR: where the SMTP sink writes one JSON file per message. */
std::string mail_dir();

/**
 * A fresh, empty database `mbtest_<16 hex>` owned by the app role, created through the admin URL
 * and dropped (WITH (FORCE), so open connections do not block it) by the destructor. Set
 * MB_TEST_KEEP_DB=1 to keep it for a post-mortem. Not copyable or movable; one per test (or
 * fixture).
 */
class scratch_database
{
public:
    scratch_database(); // throws when PostgreSQL is unreachable or refuses
    ~scratch_database();
    scratch_database(const scratch_database&) = delete;
    scratch_database& operator=(const scratch_database&) = delete;

    /** The app-role URL for this database (MB_DATABASE_URL with the database name replaced). */
    const std::string& url() const { return url_; }
    /** The superuser URL for this database (for inspecting or arranging what the app cannot). */
    const std::string& admin_url() const { return admin_url_; }
    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::string url_;
    std::string admin_url_;
};

/**
 * MB_BINARY_DIR "/" relative, e.g. binary_path("services/gateway/modebridge-gateway") or
 * binary_path("tests/mode-sim/mode-sim"). Throws when the file does not exist (build that target).
 */
std::string binary_path(std::string_view relative);

/**
 * Runs `$MB_TEST_STACK_SCRIPT <sub_command> $MB_TEST_STACK_DIR` (e.g. "stop-redis", "start-redis",
 * "stop-pg", "start-pg", "stop-smtp", "start-smtp") and waits for it (at most 3 min); throws
 * std::runtime_error with the script's output when it fails. For outage tests: the other tests of a
 * parallel ctest run share the stack, so outage tests should be in a suite run on its own.
 */
void stack_ctl(std::string sub_command);

/** One message received by the SMTP sink. */
struct mail
{
    std::string from;            // envelope MAIL FROM
    std::vector<std::string> to; // envelope RCPT TO
    std::string raw;             // the whole message as received (headers, blank line, body)
    std::string received_at;     // ISO 8601, UTC
    std::string file;            // the JSON file it was read from

    /** A header's value, unfolded, RFC 2047 encoded-words decoded; "" when absent. */
    std::string header(std::string_view name) const;
    /** The Subject header, decoded. */
    std::string subject() const { return header("Subject"); }
    /**
     * The text/plain part (the first text part when there is none), with its quoted-printable or
     * base64 transfer encoding undone, ISO-8859-1 turned into UTF-8 and line ends normalised to \n.
     */
    std::string text_body() const;
};

/**
 * Every message whose envelope recipients include `rcpt` (case-insensitive; empty: every message),
 * oldest first. The mail dir is shared by the whole test run: give each test its own addresses.
 */
std::vector<mail> mails_to(const std::string& rcpt);

/**
 * Polls the mail dir until a message to `rcpt` satisfies `predicate`; returns the newest such
 * message, or nullopt after `timeout`.
 */
std::optional<mail> wait_for_mail(
    const std::string& rcpt,
    const std::function<bool(const mail&)>& predicate,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)
);

/** As above, for the newest message to `rcpt` whose decoded subject contains `subject_part`. */
std::optional<mail> wait_for_mail(
    const std::string& rcpt,
    std::string_view subject_part,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)
);

} // namespace test
