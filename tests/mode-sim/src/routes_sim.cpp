// The /_sim/ control surface: what MODE's console does for a real project, plus inspection for tests. No
// auth (bind the emulator to loopback); errors are MODE-shaped like everything else; faults never apply.
//
//   POST /_sim/devices {deviceClass, name?, tag?}   → 201 {id, apiKey, claimCode}
//   GET  /_sim/devices                              → 200 [Device + apiKey]
//   GET  /_sim/devices/{id}/commands                → 200 [{action, parameters}], oldest first
//   PUT  /_sim/devices/{id}/connection {connected}  → 204: mark the device (dis)connected without a command
//                                                     websocket, so commands are accepted (and only recorded)
//   POST /_sim/faults {path?, method?, status?, reason?, delayMs?, count?} → 204 (faults.hpp)
//   GET  /_sim/faults → 200 [fault] · DELETE /_sim/faults → 204
//   GET  /_sim/users[?externalKey=k]                → 200 [User]
//   GET  /_sim/events                               → 200 [event as delivered], oldest first
//   GET  /_sim/webhooks                             → 200 [{id, eventType, homeId, url, status, attempts, state,
//                                                             lastError, body}], oldest first (last 1000)
//   DELETE /_sim/webhooks                           → 204: forget the record (running deliveries go on)
//   GET  /_sim/stats                                → 200 {users, userKeys, homes, devices, commands, events,
//                                                            commandChannels, eventStreams, faults,
//                                                            webhooksPending, webhooksDelivered, webhooksFailed}
//   POST /_sim/reset                                → 204: forget everything but the project keys; clear faults
//                                                     and the webhook record

#include "body.hpp"
#include "routes.hpp"

namespace modesim {

namespace {

namespace json = boost::json;

object_id sim_device_id(const request_context& ctx)
{
    return path_id(ctx, "id", reason::device_not_found);
}

} // namespace

void add_sim_routes(router& r, state& st, fault_table& faults, webhook_module& webhooks)
{
    using http::verb;
    r.add(verb::post, "/_sim/devices", sync_route([&st](request& req, request_context&) {
              json::object o = json_body(req);
              auto device_class = req_string(o, "deviceClass");
              auto d = st.provision_device(std::move(device_class), opt_string(o, "name").value_or(""),
                                           opt_string(o, "tag").value_or(""));
              return mode_created(req, to_json(d), "/devices/" + std::to_string(d.id));
          }));
    r.add(verb::get, "/_sim/devices", sync_route([&st](request& req, request_context&) {
              json::array out;
              for (const auto& d : st.devices()) {
                  json::object o = to_json(d);
                  o["apiKey"] = d.api_key;
                  out.emplace_back(std::move(o));
              }
              return mode_json(req, http::status::ok, out);
          }));
    r.add(verb::get, "/_sim/devices/{id}/commands", sync_route([&st](request& req, request_context& ctx) {
              json::array out;
              for (const auto& c : st.commands_of(sim_device_id(ctx)))
                  out.emplace_back(to_json(c));
              return mode_json(req, http::status::ok, out);
          }));
    r.add(verb::put, "/_sim/devices/{id}/connection", sync_route([&st](request& req, request_context& ctx) {
              json::object o = json_body(req);
              auto connected = opt_bool(o, "connected");
              if (!connected)
                  throw invalid_input("connected", "REQUIRED");
              st.set_connected(sim_device_id(ctx), *connected);
              return mode_empty(req);
          }));
    r.add(verb::post, "/_sim/faults", sync_route([&faults](request& req, request_context&) {
              faults.add(parse_fault(json_body(req)));
              return mode_empty(req);
          }));
    r.add(verb::get, "/_sim/faults", sync_route([&faults](request& req, request_context&) {
              json::array out;
              for (const auto& f : faults.list())
                  out.emplace_back(to_json(f));
              return mode_json(req, http::status::ok, out);
          }));
    r.add(verb::delete_, "/_sim/faults", sync_route([&faults](request& req, request_context&) {
              faults.clear();
              return mode_empty(req);
          }));
    r.add(verb::get, "/_sim/users", sync_route([&st](request& req, request_context&) {
              params q = query_params(req);
              auto key = q.find("externalKey");
              json::array out;
              for (const auto& u : st.users())
                  if (key == q.end() || u.external_key == key->second)
                      out.emplace_back(to_json(u));
              return mode_json(req, http::status::ok, out);
          }));
    r.add(verb::get, "/_sim/events", sync_route([&st](request& req, request_context&) {
              json::array out;
              for (const auto& e : st.events())
                  out.emplace_back(to_json(e));
              return mode_json(req, http::status::ok, out);
          }));
    r.add(verb::get, "/_sim/webhooks", sync_route([&webhooks](request& req, request_context&) {
              json::array out;
              for (const auto& d : webhooks.deliveries())
                  out.emplace_back(to_json(d));
              return mode_json(req, http::status::ok, out);
          }));
    r.add(verb::delete_, "/_sim/webhooks", sync_route([&webhooks](request& req, request_context&) {
              webhooks.clear();
              return mode_empty(req);
          }));
    r.add(verb::get, "/_sim/stats", sync_route([&st, &faults, &webhooks](request& req, request_context&) {
              json::object o = to_json(st.counts());
              o["faults"] = faults.list().size();
              auto w = webhooks.counts();
              o["webhooksPending"] = w.pending;
              o["webhooksDelivered"] = w.delivered;
              o["webhooksFailed"] = w.failed;
              return mode_json(req, http::status::ok, o);
          }));
    r.add(verb::post, "/_sim/reset", sync_route([&st, &faults, &webhooks](request& req, request_context&) {
              st.reset();
              faults.clear();
              webhooks.clear();
              return mode_empty(req);
          }));
}

} // namespace modesim
