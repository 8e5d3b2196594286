// How the gateway treats its secrets: mails logged in development keep their tokens out of the log, the
// dummy hash for unknown addresses exists before the first request can arrive, and MB_SECRET_KEY is only
// used through keys derived from it, while MODE keys stored by earlier versions stay usable.
#include "support/account_flow.hpp"
#include "support/mode_fixture.hpp"
#include "support/wait.hpp"

#include "common/crypto/crypto.hpp"
#include "common/crypto/keys.hpp"

#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <regex>
#include <sstream>
#include <string>

using namespace common::aliases;
using namespace std::chrono_literals;
using test::expect_problem;

namespace {

/** The lines of `log` that contain `needle`. */
std::string lines_with(const std::string& log, const std::string& needle)
{
    std::istringstream in(log);
    std::string out;
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos)
            out += line + "\n";
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(secrets_in_logs)

// Without MB_SMTP_URL mails are written to the log instead: what they say, but not the token of their link,
// which would let anyone who reads the logs verify the address (or reset the password) in the user's place.
BOOST_AUTO_TEST_CASE(mails_logged_without_smtp_carry_no_link_token)
{
    test::scratch_database db;
    auto gw = test::start_gateway(db.url(), "http://127.0.0.1:9", {{"MB_SMTP_URL", ""}});
    auto email = test::unique_email("nosmtp");
    test::register_account(gw, email);
    BOOST_REQUIRE_MESSAGE(test::eventually([&] { return !lines_with(lines_with(gw.proc->output(), "mail.logged"), email).empty(); }, 15s),
                          "no mail logged:\n" << gw.proc->output());
    auto logged = lines_with(lines_with(gw.proc->output(), "mail.logged"), email);
    // Still useful to a developer: the link's address is there, its token is not.
    BOOST_TEST(logged.find("http://app.example.test/verify-email?token=") != std::string::npos, logged);
    BOOST_TEST(!std::regex_search(logged, std::regex("token=[A-Za-z0-9_-]{16}")), logged);
    BOOST_TEST(!std::regex_search(gw.proc->output(), std::regex("token=[A-Za-z0-9_-]{16}")));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(startup)

// The hash an unknown address is checked against (so that it answers as slowly as a known one) is made
// before the gateway listens: the very first login it answers already uses it.
BOOST_AUTO_TEST_CASE(the_dummy_password_hash_exists_before_the_gateway_listens)
{
    test::scratch_database db;
    auto gw = test::start_gateway(db.url(), "http://127.0.0.1:9", {}, false);
    test::http_result first;
    bool answered = test::eventually(
        [&] {
            try {
                auto r = test::login(gw, test::unique_email("early"));
                if (r.status == 503U) // still migrating
                    return false;
                first = r;
                return true;
            } catch (const std::exception&) { // not listening yet
                return false;
            }
        },
        30s);
    BOOST_REQUIRE_MESSAGE(answered, gw.proc->output());
    expect_problem(first, 401, "INVALID_CREDENTIALS");
    auto log = gw.proc->output();
    auto prepared = log.find("\"what\":\"accounts.prepared\"");
    auto listening = log.find("\"what\":\"service.listening\"");
    BOOST_TEST_REQUIRE(prepared != std::string::npos, log);
    BOOST_TEST(prepared < listening, log);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(migrations)

// MODE keys are sealed under a key derived from MB_SECRET_KEY (HKDF), not under the secret itself. A key
// stored the old way (before the upgrade) still works for MODE calls, and is sealed anew in the background.
BOOST_FIXTURE_TEST_CASE(stored_mode_keys_move_to_the_derived_key_and_old_ones_stay_usable, test::mode_fixture)
{
    auto secret = *common::crypto::base64_decode(gw.env.at("MB_SECRET_KEY"));
    auto derived = common::crypto::derive_keys(secret);
    const auto [email, token] = user("sealed");
    auto stored = [&] {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        auto r = tx.exec_params1("SELECT id::text, mode_user_key FROM users WHERE email_normalized = lower($1)", email);
        return std::pair{r[0].as<std::string>(), r[1].as<std::string>()};
    };
    auto [id, sealed] = stored();
    // New rows: the current format, opened by the derived encryption key only.
    const auto current = common::crypto::sealed_text(secret).current_prefix();
    BOOST_TEST_REQUIRE(sealed.starts_with(current), sealed);
    auto raw = common::crypto::base64_decode(sealed.substr(current.size()));
    BOOST_TEST_REQUIRE(raw.has_value());
    auto mode_key = common::crypto::aes256gcm(derived.encryption).open(*raw, id);
    BOOST_TEST_REQUIRE(mode_key.has_value());
    BOOST_TEST(!common::crypto::aes256gcm(secret).open(*raw, id).has_value());

    // The row as an earlier version wrote it: base64 of AES-256-GCM under the secret itself.
    gw.proc.reset();
    {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        tx.exec_params("UPDATE users SET mode_user_key = $2 WHERE id = $1::uuid", id,
                       common::crypto::base64_encode(common::crypto::aes256gcm(secret).seal(*mode_key, id)));
        tx.commit();
    }
    // The upgraded gateway, same secret: the old key works for the user's MODE calls right away.
    gw = test::start_gateway(db.url(), sim.base_url(), {{"MB_SECRET_KEY", common::crypto::base64_encode(secret)}});
    auto homes = call(http::verb::get, "/v1/homes", token);
    BOOST_TEST(homes.status == 200U, homes);
    // ... and is sealed anew, the same key in the current format.
    BOOST_TEST_REQUIRE(test::eventually([&] { return stored().second.starts_with(current); }, 15s), stored().second);
    BOOST_TEST(stored_mode_key(email) == *mode_key);
    homes = call(http::verb::get, "/v1/homes", token);
    BOOST_TEST(homes.status == 200U, homes);
}

// A rotation of MB_SECRET_KEY: the new secret with the old one in MB_SECRET_KEY_PREVIOUS. Stored MODE keys
// keep working at once and are sealed anew under the new secret in the background; once they are, the old
// secret can go. Without it, a key still sealed under the old secret cannot be read.
BOOST_FIXTURE_TEST_CASE(a_rotated_secret_key_reseals_stored_mode_keys_and_the_old_one_can_then_go, test::mode_fixture)
{
    const auto old_secret = gw.env.at("MB_SECRET_KEY");
    const auto new_secret = common::crypto::base64_encode(common::crypto::random_bytes(32));
    const auto old_prefix = common::crypto::sealed_text(*common::crypto::base64_decode(old_secret)).current_prefix();
    const auto new_prefix = common::crypto::sealed_text(*common::crypto::base64_decode(new_secret)).current_prefix();
    const auto [email, token] = user("rotated");
    const auto [email2, token2] = user("rotated-later");
    auto stored = [&](const std::string& who) {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        return tx.exec_params1("SELECT mode_user_key FROM users WHERE email_normalized = lower($1)", who)[0]
            .as<std::string>();
    };
    BOOST_TEST_REQUIRE(stored(email).starts_with(old_prefix), stored(email));
    const auto mode_key = stored_mode_key(email);

    // The new secret alone: a key sealed under the old one is not readable, so the user's MODE calls fail.
    gw.proc.reset();
    gw = test::start_gateway(db.url(), sim.base_url(), {{"MB_SECRET_KEY", new_secret}});
    auto refused = call(http::verb::get, "/v1/homes", token);
    BOOST_TEST(refused.status == 500U, refused);
    BOOST_TEST(gw.proc->output().find("mode.key_unreadable") != std::string::npos, gw.proc->output());
    BOOST_TEST(stored(email).starts_with(old_prefix));

    // With the old secret as previous: the calls work at once, and every stored key moves to the new secret.
    gw.proc.reset();
    gw = test::start_gateway(db.url(), sim.base_url(),
                             {{"MB_SECRET_KEY", new_secret}, {"MB_SECRET_KEY_PREVIOUS", old_secret}});
    auto homes = call(http::verb::get, "/v1/homes", token2);
    BOOST_TEST(homes.status == 200U, homes);
    BOOST_TEST_REQUIRE(test::eventually([&] { return stored(email).starts_with(new_prefix) &&
                                                     stored(email2).starts_with(new_prefix); }, 15s),
                       stored(email));
    BOOST_TEST(gw.proc->output().find(old_secret) == std::string::npos, "a secret reached the log");

    // The old secret can go: the resealed keys work under the new one alone.
    gw.proc.reset();
    gw = test::start_gateway(db.url(), sim.base_url(), {{"MB_SECRET_KEY", new_secret}});
    BOOST_TEST(stored_mode_key(email) == mode_key);
    homes = call(http::verb::get, "/v1/homes", token);
    BOOST_TEST(homes.status == 200U, homes);
    homes = call(http::verb::get, "/v1/homes", token2);
    BOOST_TEST(homes.status == 200U, homes);
}

BOOST_AUTO_TEST_SUITE_END()
