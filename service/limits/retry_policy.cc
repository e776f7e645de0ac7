#include "service/limits/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace gitlab_gateway::limits {

absl::string_view RetryReasonLabel(RetryReason reason) {
  switch (reason) {
    case RetryReason::kNone:
      return "none";
    case RetryReason::kRateLimited:
      return "rate_limited";
    case RetryReason::kBadGateway:
      return "http_502";
    case RetryReason::kUnavailable:
      return "http_503";
    case RetryReason::kGatewayTimeout:
      return "http_504";
    case RetryReason::kConnectFailure:
      return "connect";
    case RetryReason::kConnectionReset:
      return "reset";
  }
  return "none";
}

RetryReason ClassifyForRetry(absl::string_view method,
                             const AttemptResult& result) {
  const bool idempotent = method == "GET" || method == "HEAD" ||
                          method == "PUT" || method == "DELETE";
  RetryReason reason = RetryReason::kNone;
  bool safe_for_any_method = false;
  switch (result.http_status) {
    case 429:
      reason = RetryReason::kRateLimited;
      safe_for_any_method = true;  // GitLab refused it: nothing was done
      break;
    case 502:
      reason = RetryReason::kBadGateway;
      break;
    case 503:
      reason = RetryReason::kUnavailable;
      break;
    case 504:
      reason = RetryReason::kGatewayTimeout;
      break;
    case 0:
      if (result.transport_reason == "UPSTREAM_CONNECT_FAILURE" ||
          result.transport_reason == "UPSTREAM_DNS_FAILURE") {
        reason = RetryReason::kConnectFailure;
        safe_for_any_method = true;  // nothing reached GitLab
      } else if (result.transport_reason == "UPSTREAM_CONNECTION_FAILURE" &&
                 !result.response_started) {
        reason = RetryReason::kConnectionReset;
      }
      break;
    default:
      break;
  }
  if (reason == RetryReason::kNone) return reason;
  return idempotent || safe_for_any_method ? reason : RetryReason::kNone;
}

absl::Duration Backoff(const RetryOptions& options, int retry, double unit) {
  int shift = std::clamp(retry - 1, 0, 30);
  absl::Duration ceiling = std::min(options.cap, options.base * (1 << shift));
  return ceiling * std::clamp(unit, 0.0, 1.0);
}

}  // namespace gitlab_gateway::limits
