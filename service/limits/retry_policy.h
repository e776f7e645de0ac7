#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_RETRY_POLICY_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_RETRY_POLICY_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gitlab_gateway::limits {

// Why an attempt may be retried. kNone: it may not.
enum class RetryReason {
  kNone,
  kRateLimited,      // 429: the credential pauses, then the call retries
  kBadGateway,       // 502
  kUnavailable,      // 503
  kGatewayTimeout,   // 504
  kConnectFailure,   // the request surely did not reach GitLab
  kConnectionReset,  // reset before any response byte
};

// Metric label for a reason: "rate_limited", "http_503", "connect", ...
absl::string_view RetryReasonLabel(RetryReason reason);

struct RetryOptions {
  int max_attempts = 3;  // including the first; 1 disables retries
  absl::Duration base = absl::Milliseconds(100);
  absl::Duration cap = absl::Seconds(5);
};

// What an attempt ended with, as far as retrying is concerned.
struct AttemptResult {
  int http_status = 0;  // 0: no HTTP answer
  // For failures without an answer: the ErrorInfo reason from the engine.
  absl::string_view transport_reason;
  // The engine received at least one response byte before failing.
  bool response_started = false;
};

// The retry reason for an attempt of `method`, or kNone when it must not be
// retried. GET, HEAD, PUT and DELETE are retried on every transient failure;
// POST and PATCH only when the request surely did not reach GitLab (connect
// failure) or GitLab answered 429. Pure; any thread.
RetryReason ClassifyForRetry(absl::string_view method,
                             const AttemptResult& result);

// Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^(n-1)))
// for the n-th retry (n >= 1). `unit` is a uniform random number in [0, 1).
absl::Duration Backoff(const RetryOptions& options, int retry, double unit);

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_RETRY_POLICY_H_
