#pragma once

#include "common/net/aliases.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <string>

namespace common {
class blocking_pool;
}
namespace common::web {
class problem;
}

namespace gateway {

using namespace common::aliases;

/**
 * Argon2id for the account flows, on the bounded hashing pool: password work waits for a hashing thread
 * only while the queue is short; in a storm the surplus is refused at once (503 BUSY with Retry-After)
 * rather than queued for ever longer, and token calls keep their CPU.
 * The coroutines run on the caller's executor; the hashing itself on the pool's threads (at nice 19).
 * Thread-safety: shared after `prepare`.
 */
class password_hasher
{
public:
    password_hasher(common::blocking_pool& pool, std::size_t max_waiting)
        : pool_(pool)
        , max_waiting_(max_waiting)
    {
    }

    /** Computes the dummy hash that unknown addresses are checked against (same cost as a real one).
        Blocking: called once before the service listens, so no login can ever meet it unset. */
    void prepare();

    /** True when the queue is full: a caller may refuse before counting anything. */
    bool busy() const noexcept;

    net::awaitable<std::string> hash(std::string password);
    /** Whether `password` matches `hash`; an empty `hash` (no account, no password) is checked against the
        dummy hash and never matches, so the answer takes the same time either way. */
    net::awaitable<bool> matches(std::string hash, std::string password);

private:
    common::blocking_pool& pool_;
    std::size_t max_waiting_;
    std::string dummy_hash_;
};

/** 503 BUSY with Retry-After: too many password checks at once. */
common::web::problem hashing_busy();

} // namespace gateway
