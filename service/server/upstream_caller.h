#ifndef GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_

#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/engine/engine.h"
#include "service/gitlab/credentials.h"
#include "service/gitlab/url_builder.h"
#include "service/limits/credential_limiters.h"
#include "service/limits/retry_budget.h"
#include "service/limits/retry_policy.h"
#include "service/limits/scheduler.h"
#include "service/metrics/metrics.h"
#include "service/server/work_pool.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;

// What one call ended with. `response` carries the id always, and GitLab's
// status, headers and body whenever GitLab answered (also when `status` is an
// error), so BatchExecute can return both.
struct CallOutcome {
  grpc::Status status;
  v1::Response response;
};

using CallDone = absl::AnyInvocable<void(CallOutcome)>;

struct UpstreamOptions {
  gitlab::BaseUrl base_url;
  // Used when a request names no credentials; none = unauthenticated.
  std::optional<gitlab::Credential> default_credential;
  // Applied when neither Request.timeout nor the RPC deadline says otherwise.
  absl::Duration default_timeout = absl::Seconds(30);
  // Upper bound for Request.timeout.
  absl::Duration max_timeout = absl::Minutes(10);
  limits::LimiterOptions limiter;
  limits::RetryOptions retry;
  double retry_budget_ratio = 0.2;
  int retry_budget_min = 3;
};

class UpstreamCall;

// Turns a v1::Request into upstream exchanges on the shared engine and their
// answer into a CallOutcome: validation, URL and auth, the per-credential rate
// limiter, retries with backoff and budget, the GitLab error mapping and the
// upstream metrics — shared by every RPC.
//
// Start may be called from any thread. `done` runs exactly once: on the
// calling thread when the request is refused at once (bad input, overload),
// otherwise on the engine's loop thread, the scheduler's thread or (for
// answers over kInlineAnswerBytes) a WorkPool thread. It must not block.
class UpstreamCaller {
 public:
  // Threads that map answers too big to handle on the engine thread.
  static constexpr int kWorkThreads = 2;

  UpstreamCaller(engine::Engine* engine, metrics::Metrics* metrics,
                 UpstreamOptions options);
  ~UpstreamCaller();

  // `flow` is the engine's fair-queueing key: 0 for unary calls, one per
  // stream otherwise (see NewFlow). `url`, when set, replaces the URL built
  // from the request (a validated keyset Link rel="next", sent exactly).
  // Returns null when the call was refused (and `done` already ran).
  std::shared_ptr<UpstreamCall> Start(const v1::Request& request,
                                      absl::Time rpc_deadline, CallDone done,
                                      uint64_t flow = 0,
                                      const std::string* url = nullptr);

  // A fresh fair-queueing key for a stream. Any thread.
  uint64_t NewFlow() { return next_flow_.fetch_add(1); }

  const UpstreamOptions& options() const { return options_; }
  limits::CredentialLimiters& limiters() { return limiters_; }
  limits::RetryBudget& retry_budget() { return budget_; }

 private:
  friend class UpstreamCall;

  absl::StatusOr<engine::HttpRequest> BuildHttpRequest(
      const v1::Request& request, absl::Time deadline) const;

  engine::Engine* const engine_;
  metrics::Metrics* const metrics_;
  const UpstreamOptions options_;
  std::atomic<uint64_t> next_flow_{1};
  limits::RetryBudget budget_;
  limits::CredentialLimiters limiters_;
  // Destroyed before work_, it completes waiting calls while limiters_ and
  // budget_ still exist.
  limits::Scheduler scheduler_;
  // Declared last: destroyed first, it finishes the answers handed to it
  // while the scheduler (a retry) and everything else still exist.
  WorkPool work_{kWorkThreads};
};

// The deadline a call gets: the earliest of the RPC deadline and
// now + (Request.timeout, else default_timeout), with Request.timeout capped
// at max_timeout. Pure; any thread.
absl::Time CallDeadline(const v1::Request& request, absl::Time rpc_deadline,
                        absl::Time now, const UpstreamOptions& options);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_
