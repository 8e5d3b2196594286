#pragma once

#include "common/mode/client.hpp"
#include "common/web/problem.hpp"

namespace gateway {

/**
 * The answer the gateway gives for a failed MODE call (api.md): MODE's 4xx pass through with code
 * `MODE_<REASON>`; unreachable or 5xx → 503/502 `MODE_UNAVAILABLE`; too slow → 504 `MODE_TIMEOUT`;
 * a bad answer → 502 `MODE_UNAVAILABLE`; a write that may have reached MODE before its connection broke →
 * 502 `MODE_OUTCOME_UNKNOWN` (no Retry-After: repeating it may repeat its effect). MODE's 401 means our
 * own credentials were refused, which the user cannot fix: it becomes a 502 too. A pure function.
 */
common::web::problem to_problem(const common::mode::error& e);

} // namespace gateway
