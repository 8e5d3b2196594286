#include "accounts/password_hasher.hpp"

#include "common/crypto/crypto.hpp"
#include "common/log.hpp"
#include "common/util/blocking_pool.hpp"
#include "common/web/problem.hpp"

namespace gateway {

common::web::problem hashing_busy()
{
    return common::web::problem(http::status::service_unavailable, "BUSY",
                                "too many password checks at once; try again shortly")
        .with_header("Retry-After", "1");
}

void password_hasher::prepare()
{
    dummy_hash_ = common::crypto::argon2id_hash(common::crypto::random_token(16));
    common::log::info("accounts.prepared");
}

bool password_hasher::busy() const noexcept
{
    return pool_.waiting() >= max_waiting_;
}

net::awaitable<std::string> password_hasher::hash(std::string password)
{
    auto hash = co_await pool_.try_run([&password] { return common::crypto::argon2id_hash(password); }, max_waiting_);
    if (!hash)
        throw hashing_busy();
    co_return std::move(*hash);
}

net::awaitable<bool> password_hasher::matches(std::string hash, std::string password)
{
    bool real = !hash.empty();
    const std::string& against = real ? hash : dummy_hash_;
    auto ok = co_await pool_.try_run([&] { return common::crypto::argon2id_verify(against, password); }, max_waiting_);
    if (!ok)
        throw hashing_busy();
    co_return real && *ok;
}

} // namespace gateway
