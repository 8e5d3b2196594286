#include "mail/mail_outbox.hpp"

#include "common/crypto/keys.hpp"
#include "common/db/pg_pool.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <pqxx/result>
#include <pqxx/transaction>

namespace gateway {

namespace {

// The recipient is bound to the sealed content, so a payload cannot be moved to another row.
std::string aad_for(const std::string& to)
{
    return "mail:" + to;
}

// Mails queued by an earlier version (v1 format) still open.
std::optional<mail_content> open_payload(const common::crypto::sealed_text& cipher, const std::string& to,
                                         const std::string& sealed)
{
    auto plain = cipher.open(sealed, aad_for(to));
    if (!plain)
        return std::nullopt;
    boost::system::error_code ec;
    auto v = json::parse(*plain, ec);
    if (ec || !v.is_object())
        return std::nullopt;
    const auto& o = v.as_object();
    mail_content c;
    c.subject = std::string(o.at("subject").as_string());
    c.text = std::string(o.at("text").as_string());
    c.html = std::string(o.at("html").as_string());
    return c;
}

} // namespace

std::vector<std::pair<std::string, std::string>> mail_outbox::statements()
{
    return {
        {"outbox_insert", "INSERT INTO mail_outbox (recipient, kind, payload) VALUES ($1, $2, $3)"},
        {"outbox_claim",
         "UPDATE mail_outbox SET next_attempt_at = now() + $2::bigint * interval '1 millisecond' "
         "WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL "
         "AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
         "RETURNING id, recipient, kind, attempts, payload"},
        {"outbox_sent", "UPDATE mail_outbox SET sent_at = now(), payload = NULL, last_error = NULL WHERE id = $1"},
        {"outbox_retry",
         "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $3, "
         "next_attempt_at = now() + $2::bigint * interval '1 millisecond' WHERE id = $1"},
        {"outbox_give_up",
         "UPDATE mail_outbox SET attempts = attempts + 1, failed_at = now(), payload = NULL, last_error = $2 "
         "WHERE id = $1"},
        // Counted on the partial index of unsent mails.
        {"outbox_depth", "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL"},
    };
}

void mail_outbox::enqueue(pqxx::transaction_base& tx, const std::string& to, std::string_view kind,
                          const mail_content& c) const
{
    json::object o{{"subject", c.subject}, {"text", c.text}, {"html", c.html}};
    auto sealed = cipher_.seal(json::serialize(o), aad_for(to));
    tx.exec_prepared("outbox_insert", to, std::string(kind), sealed);
}

net::awaitable<std::vector<queued_mail>> mail_outbox::claim(int limit, std::chrono::milliseconds lease)
{
    co_return co_await db_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        auto rows = tx.exec_prepared("outbox_claim", limit, static_cast<std::int64_t>(lease.count()));
        tx.commit();
        std::vector<queued_mail> out;
        for (const auto& r : rows) {
            queued_mail m;
            m.id = r[0].as<std::int64_t>();
            m.to = r[1].as<std::string>();
            m.kind = r[2].as<std::string>();
            m.attempts = r[3].as<int>();
            if (!r[4].is_null())
                m.content = open_payload(cipher_, m.to, r[4].as<std::string>());
            out.push_back(std::move(m));
        }
        return out;
    });
}

net::awaitable<void> mail_outbox::sent(std::int64_t id)
{
    co_await db_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec_prepared("outbox_sent", id);
        tx.commit();
    });
}

net::awaitable<void> mail_outbox::retry(std::int64_t id, std::chrono::milliseconds delay, std::string error)
{
    co_await db_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec_prepared("outbox_retry", id, static_cast<std::int64_t>(delay.count()), error);
        tx.commit();
    });
}

net::awaitable<void> mail_outbox::give_up(std::int64_t id, std::string error)
{
    co_await db_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec_prepared("outbox_give_up", id, error);
        tx.commit();
    });
}

net::awaitable<std::int64_t> mail_outbox::depth()
{
    co_return co_await db_.run([](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        return tx.exec_prepared1("outbox_depth")[0].as<std::int64_t>();
    });
}

} // namespace gateway
