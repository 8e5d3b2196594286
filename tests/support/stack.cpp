#include "support/stack.hpp"

#include "common/log.hpp"
#include "support/process.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <pqxx/pqxx>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>

// The environment the stack exports, scratch databases, binaries, and stopping or starting parts of
// the stack. The SMTP sink's messages are read in sink_mail.cpp.

namespace test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string random_suffix()
{
    std::random_device rd;
    std::uniform_int_distribution<unsigned> nibble(0, 15);
    std::string s;
    for (int i = 0; i < 16; ++i)
        s += "0123456789abcdef"[nibble(rd)];
    return s;
}

/** `base` (a postgresql:// URL) pointing at database `db` instead. */
std::string with_database(const std::string& base, const std::string& db)
{
    boost::urls::url u(boost::urls::parse_uri(base).value());
    u.set_path("/" + db);
    return std::string(u.buffer());
}

} // namespace

const std::string& env_or_fail(const char* name)
{
    // std::map keeps references stable, so callers may hold on to the returned value.
    static std::mutex mutex;
    static std::map<std::string, std::string> cache;
    std::lock_guard lock(mutex);
    if (auto it = cache.find(name); it != cache.end())
        return it->second;
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0')
        throw std::runtime_error(
            std::string("environment variable ") + name +
            " is not set: integration tests need the local stack; run them through scripts/test.sh "
            "(or eval \"$(scripts/stack.sh env <dir>)\" after scripts/stack.sh start <dir>)"
        );
    return cache.emplace(name, value).first->second;
}

std::string database_url()
{
    return env_or_fail("MB_DATABASE_URL");
}
std::string admin_url()
{
    return env_or_fail("MB_TEST_PG_ADMIN_URL");
}
std::string redis_url()
{
    return env_or_fail("MB_REDIS_URL");
}
std::string smtp_url()
{
    return env_or_fail("MB_SMTP_URL");
}
std::string mail_dir()
{
    return env_or_fail("MB_TEST_MAIL_DIR");
}

// ------------------------------------------------------------------------------ scratch_database

scratch_database::scratch_database()
    : name_("mbtest_" + random_suffix())
{
    const auto& app = env_or_fail("MB_DATABASE_URL");
    const auto& admin = env_or_fail("MB_TEST_PG_ADMIN_URL");
    auto owner = boost::urls::parse_uri(app).value().user();
    url_ = with_database(app, name_);
    admin_url_ = with_database(admin, name_);

    pqxx::connection conn(admin);
    // CREATE DATABASE cannot run inside a transaction block.
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE DATABASE " + tx.quote_name(name_) + " OWNER " + tx.quote_name(owner));
}

scratch_database::~scratch_database()
{
    if (std::getenv("MB_TEST_KEEP_DB") != nullptr) {
        common::log::info("test.scratch_db.kept", {{"database", name_}});
        return;
    }
    try {
        pqxx::connection conn(env_or_fail("MB_TEST_PG_ADMIN_URL"));
        pqxx::nontransaction tx(conn);
        tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception& e) {
        // A destructor must not throw; a leftover mbtest_ database is harmless on a throwaway
        // stack.
        common::log::warn(
            "test.scratch_db.drop_failed", {{"database", name_}, {"error", e.what()}}
        );
    }
}

// ------------------------------------------------------------------------------ binaries, stack

std::string binary_path(std::string_view relative)
{
    auto path = std::string(MB_BINARY_DIR) + "/" + std::string(relative);
    if (!fs::exists(path))
        throw std::runtime_error(
            "binary_path: " + path + " does not exist; build that target first"
        );
    return path;
}

void stack_ctl(std::string sub_command)
{
    const auto& script = env_or_fail("MB_TEST_STACK_SCRIPT");
    const auto& dir = env_or_fail("MB_TEST_STACK_DIR");
    process p({.argv = {script, sub_command, dir}, .env = {}, .unset_env = {}, .log_path = {}});
    auto code = p.wait(3min);
    if (!code)
        throw std::runtime_error("stack_ctl " + sub_command + ": timed out:\n" + p.output());
    if (*code != 0)
        throw std::runtime_error(
            "stack_ctl " + sub_command + ": exit code " + std::to_string(*code) + ":\n" + p.output()
        );
}

} // namespace test
