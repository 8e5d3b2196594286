#include "webhook_handler.hpp"

#include "signature.hpp"

#include "common/web/json_body.hpp"
#include "common/web/problem.hpp"

namespace ingest {

using common::web::request;
using common::web::request_context;
using common::web::response;

void add_webhook_route(common::web::router& r, const settings& s, event_store& store, common::metrics::registry& m)
{
    auto& rejected_signature =
        m.counter_for("mb_webhook_rejected_total", "Webhook calls refused", {{"reason", "signature"}});
    auto& rejected_event = m.counter_for("mb_webhook_rejected_total", "Webhook calls refused", {{"reason", "event"}});
    auto& accepted = m.counter_for("mb_webhook_accepted_total",
                                   "Webhook deliveries accepted (signed, valid, committed; duplicates included)");
    r.add(http::verb::post, s.webhook_path,
          [&s, &store, &rejected_signature, &rejected_event, &accepted](request& req, request_context&) -> net::awaitable<response> {
              auto sig = req["X-Mode-Signature"];
              if (!signature_valid(s.webhook_url, req.body(), std::string_view(sig.data(), sig.size()), s.webhook_keys)) {
                  rejected_signature.inc();
                  throw common::web::problem(http::status::unauthorized, "INVALID_SIGNATURE",
                                             "the X-Mode-Signature header is missing or does not match");
              }
              std::string why;
              auto event = parse_event(req.body(), why);
              if (!event) {
                  rejected_event.inc();
                  throw common::web::bad_request("INVALID_EVENT", why);
              }
              co_await store.store(std::move(*event));
              accepted.inc();
              co_return common::web::empty_response(req, http::status::no_content);
          });
}

} // namespace ingest
