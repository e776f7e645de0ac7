#ifndef GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/auth/caller.h"
#include "service/auth/caller_rate_limiter.h"
#include "service/auth/policy_store.h"
#include "service/gitlab/call_outcome.h"
#include "service/gitlab/credentials.h"
#include "service/gitlab/named_credentials.h"
#include "service/gitlab/prepared_call.h"
#include "service/gitlab/url_builder.h"
#include "service/limits/credential_limiters.h"
#include "service/limits/retry_policy.h"
#include "service/pipeline/pipeline.h"
#include "service/pipeline/upstream.h"
#include "service/server/call_recorder.h"
#include "service/server/rpc_info.h"

namespace gitlab_gateway::server {

using CallOutcome = gitlab::CallOutcome;
using CallDone = gitlab::CallDone;
using UpstreamCall = pipeline::CallHandle;

// What the call path is configured with: Prepare's part and the Pipeline's
// (PipelineOptionsOf).
struct UpstreamOptions {
  gitlab::BaseUrl base_url;
  // Used when a request names no credentials; none = unauthenticated.
  std::optional<gitlab::Credential> default_credential;
  // Held by name (--credentials_dir); null = none.
  std::shared_ptr<const gitlab::NamedCredentials> named_credentials;
  // The caller policy (--policy_file); null = no rules (auth::Policy::Empty).
  std::shared_ptr<auth::PolicyStore> policy;
  // Callers without a rule may spend the default token (today's behaviour).
  bool allow_anonymous_default_token = false;
  // Applied when neither Request.timeout nor the RPC deadline says otherwise.
  absl::Duration default_timeout = absl::Seconds(30);
  // Upper bound for Request.timeout.
  absl::Duration max_timeout = absl::Minutes(10);
  limits::LimiterOptions limiter;
  limits::RetryOptions retry;
  double retry_budget_ratio = 0.2;
  int retry_budget_min = 3;
};

// The reactors' way down: gitlab::Prepare turns a
// ::gitlab::gateway::v1::Request into a PreparedCall in one pass (credential
// resolved with the caller's default from the policy), the policy decides
// whether this caller may make it (auth::Decide, then the per-caller rate), and
// the Upstream (the Pipeline, or a test's fake) runs it. A refusal sends
// nothing upstream. Shared by every RPC; holds no call state.
//
// Start may be called from any thread. `done` runs exactly once: on the
// calling thread when the request is refused at once (bad input, overload),
// otherwise on one of the pipeline's threads. It must not block.
class UpstreamCaller {
 public:
  // Runs calls on `upstream` (not owned): the Pipeline, or a test's fake.
  // Every ended call is recorded on `recorder` (not owned; null: none).
  UpstreamCaller(pipeline::Upstream* upstream, UpstreamOptions options,
                 const CallRecorder* recorder = nullptr);

  // `caller` is who made the RPC (auth::Caller; anonymous until identity is
  // checked); the policy judges the call by it: UNAUTHENTICATED
  // (CALLER_UNAUTHENTICATED), PERMISSION_DENIED (CALLER_NOT_ALLOWED, metadata
  // caller and rule) or RESOURCE_EXHAUSTED (CALLER_RATE_LIMITED). `rpc`
  // names the RPC and carries its correlation values, sent to GitLab
  // (gitlab::AddCorrelationHeaders). `flow` is the engine's fair-queueing
  // key: 0 for unary calls, one per
  // stream otherwise (see NewFlow). `url`, when set, replaces the URL built
  // from the request (a validated keyset Link rel="next", sent exactly).
  // `account`, when set, is charged with every answer's body as it arrives
  // (see engine::HttpRequest::account); the caller releases it. `sink` /
  // `source`, when set, stream the answer's / request's body (see
  // engine/body_stream.h).
  // Returns null when the call was refused (and `done` already ran).
  std::shared_ptr<UpstreamCall> Start(
      const auth::Caller& caller, const RpcInfo& rpc,
      const ::gitlab::gateway::v1::Request& request, absl::Time rpc_deadline,
      CallDone done, uint64_t flow = 0, const std::string* url = nullptr,
      std::shared_ptr<engine::ByteAccount> account = nullptr,
      std::shared_ptr<engine::BodySink> sink = nullptr,
      std::shared_ptr<engine::BodySource> source = nullptr);

  // Records a call of `rpc` that a reactor refused before Start (undecodable
  // message, memory budget, bad metadata, bad PaginateRequest): `id` is its
  // Request.id as far as known. Any thread.
  void Refused(const auth::Caller& caller, const RpcInfo& rpc,
               absl::string_view id, const grpc::Status& status) const;

  // A fresh fair-queueing key for a stream. Any thread.
  uint64_t NewFlow() { return upstream_->NewFlow(); }

  const UpstreamOptions& options() const { return options_; }

 private:
  // The policy in force for the next call.
  std::shared_ptr<const auth::Policy> Policy() const;

  const UpstreamOptions options_;
  const gitlab::PrepareOptions prepare_;
  pipeline::Upstream* const upstream_;
  const CallRecorder* const recorder_;
  const std::shared_ptr<const auth::Policy> no_rules_;
  auth::CallerRateLimiter caller_rates_;
};

// The Pipeline's share of `options`.
pipeline::PipelineOptions PipelineOptionsOf(const UpstreamOptions& options);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALLER_H_
