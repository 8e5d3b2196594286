#pragma once

#include "common/net/aliases.hpp"

#include "mode/link_store.hpp"

#include "common/crypto/keys.hpp"
#include "common/metrics.hpp"
#include "common/mode/client.hpp"
#include "common/util/background_loop.hpp"
#include "common/util/backoff.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace gateway {

using namespace common::aliases;

struct settings;
class session_bus;

/** What one link attempt achieved. */
struct link_result
{
    std::optional<std::int64_t> mode_user_id;
    bool linked = false;
};

/**
 * Links accounts to MODE users (the BYOU guide's "Linking Your Users to MODE"): `POST /users` with the
 * project key, then `POST /auth/user` for that user's key, stored sealed under MB_SECRET_KEY. The MODE
 * user id is stored the moment MODE returns it, so a later attempt reuses it instead of creating
 * another MODE user. A failed attempt schedules the next one with jittered exponential backoff; the
 * background loop (`run`, one per instance) claims due accounts with a lease, so instances never work
 * on the same account at once.
 *
 * Runs its background loop on the strand given at construction. Thread-safety: shared; `attempt` may run
 * concurrently for different accounts; `stop` from anywhere. `run` once.
 */
class mode_linker
{
public:
    /** `strand` is where `run` must be spawned; `stop` posts to it. */
    mode_linker(net::any_io_executor strand, link_store& links, common::mode::client& mode, const settings& s,
                common::metrics::registry& m);

    /** One attempt within `timeout`, for an account whose lease the caller holds. Records the outcome;
        never throws for MODE or database failures. */
    net::awaitable<link_result> attempt(std::string user_id, std::optional<std::int64_t> mode_user_id, int attempts,
                                        std::chrono::milliseconds timeout);

    /** The background loop; returns after `stop`. */
    net::awaitable<void> run();
    void stop();
    /** Where to announce a newly linked account (cached sessions show the old link state). */
    void announce_to(session_bus& bus) { bus_ = &bus; }

    /** The strand `run` belongs on. */
    net::any_io_executor executor() { return loop_.executor(); }

    /** How long a claimed account stays leased to the instance working on it. */
    static constexpr std::chrono::milliseconds lease{60'000};

    /** The delay before attempt number `attempts + 1`, jittered into [d/2, d]. */
    std::chrono::milliseconds backoff(int attempts) const { return retry_.delay(static_cast<unsigned>(attempts)); }

    /** Seals a MODE user key for storage (common::crypto::sealed_text, the account id as associated data). */
    std::string seal_key(const std::string& user_id, const std::string& key) const;
    /** Opens a stored key, in the current or the v1 format; nullopt when it does not open under
        MB_SECRET_KEY for this account. */
    std::optional<std::string> open_key(const std::string& user_id, const std::string& sealed) const;

    /** Seals anew, in the current format, every stored key an earlier version wrote (one pass at startup;
        keys that do not open are left as they are). */
    net::awaitable<void> reseal_stored_keys();

private:
    /** Fills `r` as it goes, so a failure half-way still reports the MODE user id it obtained. */
    net::awaitable<void> link(const std::string& user_id, link_result& r, std::chrono::steady_clock::time_point deadline);

    link_store& links_;
    common::mode::client& mode_;
    const settings& settings_;
    common::crypto::sealed_text cipher_;
    common::metrics::counter& linked_;
    common::metrics::counter& failed_;
    session_bus* bus_ = nullptr;
    common::backoff retry_;
    common::background_loop loop_;
};

} // namespace gateway
