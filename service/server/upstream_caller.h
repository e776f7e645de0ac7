#ifndef GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/auth/caller.h"
#include "service/gitlab/call_outcome.h"
#include "service/gitlab/credentials.h"
#include "service/gitlab/prepared_call.h"
#include "service/gitlab/url_builder.h"
#include "service/limits/credential_limiters.h"
#include "service/limits/retry_policy.h"
#include "service/pipeline/pipeline.h"
#include "service/pipeline/upstream.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;

using CallOutcome = gitlab::CallOutcome;
using CallDone = gitlab::CallDone;
using UpstreamCall = pipeline::CallHandle;

// What the call path is configured with: Prepare's part and the Pipeline's
// (PipelineOptionsOf).
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

// The reactors' way down: gitlab::Prepare turns a v1::Request into a
// PreparedCall in one pass, and the Upstream (the Pipeline, or a test's fake)
// runs it. Shared by every RPC; holds no call state.
//
// Start may be called from any thread. `done` runs exactly once: on the
// calling thread when the request is refused at once (bad input, overload),
// otherwise on one of the pipeline's threads. It must not block.
class UpstreamCaller {
 public:
  // Runs calls on `upstream` (not owned): the Pipeline, or a test's fake.
  UpstreamCaller(pipeline::Upstream* upstream, UpstreamOptions options);

  // `caller` is who made the RPC (auth::Caller; anonymous until identity is
  // checked). `flow` is the engine's fair-queueing key: 0 for unary calls, one per
  // stream otherwise (see NewFlow). `url`, when set, replaces the URL built
  // from the request (a validated keyset Link rel="next", sent exactly).
  // `account`, when set, is charged with every answer's body as it arrives
  // (see engine::HttpRequest::account); the caller releases it. `sink` /
  // `source`, when set, stream the answer's / request's body (see
  // engine/body_stream.h).
  // Returns null when the call was refused (and `done` already ran).
  std::shared_ptr<UpstreamCall> Start(
      const auth::Caller& caller, const v1::Request& request, absl::Time rpc_deadline, CallDone done,
      uint64_t flow = 0, const std::string* url = nullptr,
      std::shared_ptr<engine::ByteAccount> account = nullptr,
      std::shared_ptr<engine::BodySink> sink = nullptr,
      std::shared_ptr<engine::BodySource> source = nullptr);

  // A fresh fair-queueing key for a stream. Any thread.
  uint64_t NewFlow() { return upstream_->NewFlow(); }

  const UpstreamOptions& options() const { return options_; }

 private:
  const UpstreamOptions options_;
  const gitlab::PrepareOptions prepare_;
  pipeline::Upstream* const upstream_;
};

// The Pipeline's share of `options`.
pipeline::PipelineOptions PipelineOptionsOf(const UpstreamOptions& options);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_
