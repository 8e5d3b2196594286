#include "mode/mode_problems.hpp"

namespace gateway {

namespace web = common::web;
using common::mode::failure;
using namespace common::aliases;

web::problem to_problem(const common::mode::error& e)
{
    switch (e.kind()) {
    case failure::rejected: {
        if (e.status() == 401)
            return web::problem(http::status::bad_gateway, "MODE_UNAVAILABLE",
                                "MODE refused this service's credentials");
        auto status = static_cast<http::status>(e.status());
        return web::problem(status, "MODE_" + e.reason(), "MODE refused the request: " + e.reason());
    }
    case failure::unavailable:
        if (e.status() == 0 || e.status() == 503)
            return web::service_unavailable("MODE_UNAVAILABLE", "MODE cannot be reached right now", 5);
        return web::problem(http::status::bad_gateway, "MODE_UNAVAILABLE", "MODE failed to answer the request");
    case failure::timeout:
        return web::problem(http::status::gateway_timeout, "MODE_TIMEOUT", "MODE did not answer in time");
    case failure::outcome_unknown:
        return web::problem(http::status::bad_gateway, "MODE_OUTCOME_UNKNOWN",
                            "the connection to MODE broke after the request was sent: it may have been carried out; "
                            "check before repeating it");
    case failure::bad_answer:
        break;
    }
    return web::problem(http::status::bad_gateway, "MODE_UNAVAILABLE", "MODE gave an answer this service cannot use");
}

} // namespace gateway
