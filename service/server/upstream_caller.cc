#include "service/server/upstream_caller.h"

#include <utility>

#include "absl/time/clock.h"
#include "service/auth/policy_decision.h"
#include "service/server/policy_refusal.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;
namespace {

gitlab::PrepareOptions PrepareOptionsOf(const UpstreamOptions& options) {
  return gitlab::PrepareOptions{options.base_url, options.default_credential,
                                options.named_credentials,
                                options.default_timeout, options.max_timeout};
}

size_t BodyBytes(const v1::Request& request) {
  switch (request.body_case()) {
    case v1::Request::kText:
      return request.text().size();
    case v1::Request::kContent:
      return request.content().size();
    case v1::Request::BODY_NOT_SET:
      break;
  }
  return 0;
}

void Refuse(const v1::Request& request, grpc::Status status, CallDone& done) {
  CallOutcome outcome;
  outcome.response->set_id(request.id());
  outcome.status = std::move(status);
  done(std::move(outcome));
}

}  // namespace

pipeline::PipelineOptions PipelineOptionsOf(const UpstreamOptions& options) {
  pipeline::PipelineOptions out;
  out.domain = options.base_url.host;
  out.limiter = options.limiter;
  out.retry = options.retry;
  out.retry_budget_ratio = options.retry_budget_ratio;
  out.retry_budget_min = options.retry_budget_min;
  return out;
}

UpstreamCaller::UpstreamCaller(pipeline::Upstream* upstream,
                               UpstreamOptions options,
                               const CallRecorder* recorder)
    : options_(std::move(options)),
      prepare_(PrepareOptionsOf(options_)),
      upstream_(upstream),
      recorder_(recorder),
      no_rules_(auth::Policy::Empty()) {}

std::shared_ptr<const auth::Policy> UpstreamCaller::Policy() const {
  return options_.policy != nullptr ? options_.policy->current() : no_rules_;
}

void UpstreamCaller::Refused(const auth::Caller& caller, const RpcInfo& rpc,
                             absl::string_view id,
                             const grpc::Status& status) const {
  if (recorder_ == nullptr) return;
  CallFacts facts;
  facts.caller = caller.name;
  facts.rpc = rpc.rpc;
  facts.id = std::string(id);
  facts.request_id = rpc.correlation.request_id;
  facts.started = absl::Now();
  v1::Response response;
  recorder_->Record(facts, status, response);
}

std::shared_ptr<UpstreamCall> UpstreamCaller::Start(
    const auth::Caller& caller, const RpcInfo& rpc,
    const v1::Request& request, absl::Time rpc_deadline, CallDone done,
    uint64_t flow, const std::string* url,
    std::shared_ptr<engine::ByteAccount> account,
    std::shared_ptr<engine::BodySink> sink,
    std::shared_ptr<engine::BodySource> source) {
  const absl::Time now = absl::Now();
  const std::shared_ptr<const auth::Policy> policy = Policy();
  gitlab::PreparedCall call;
  grpc::Status refused =
      gitlab::Prepare(request, prepare_, rpc_deadline, now, &call,
                      auth::FallbackCredential(*policy, caller));
  if (recorder_ != nullptr) {
    // Recorded where the call ends, before the reactor sees it: refusals
    // by policy below included.
    CallFacts facts;
    facts.caller = caller.name;
    facts.rpc = rpc.rpc;
    facts.id = request.id();
    if (refused.ok()) {
      facts.method = call.http.method;
      facts.route = call.route;
      facts.credential_class = call.credential_class;
      facts.credential_name = call.credential_name;
    }
    facts.request_id = std::string(
        gitlab::SentRequestId(request, rpc.correlation.request_id));
    facts.started = now;
    done = [recorder = recorder_, facts = std::move(facts),
            done = std::move(done)](CallOutcome outcome) mutable {
      recorder->Record(facts, outcome.status, *outcome.response);
      done(std::move(outcome));
    };
  }
  if (!refused.ok()) {
    Refuse(request, std::move(refused), done);
    return nullptr;
  }
  auth::CallFacts facts;
  facts.method = call.http.method;
  facts.path = request.path();
  facts.graphql = call.graphql;
  facts.sudo = request.sudo();
  facts.body_bytes = BodyBytes(request);
  if (source != nullptr) {
    // A streamed body: its announced size, which the Upload reactor holds
    // the stream to (more or fewer bytes fail the call with SIZE_MISMATCH).
    facts.body_bytes = source->size() >= 0 ? source->size() : 0;
    facts.body_size_unknown = source->size() < 0;
  }
  facts.credential_name = call.credential_name;
  const auth::Decision decision = auth::Decide(
      *policy, caller, facts,
      auth::PolicyOptions{options_.allow_anonymous_default_token});
  if (!decision.allowed()) {
    Refuse(request, PolicyRefusal(decision, caller), done);
    return nullptr;
  }
  if (decision.caller_rule != nullptr) {
    if (std::optional<absl::Duration> wait =
            caller_rates_.Admit(*decision.caller_rule, now)) {
      Refuse(request, CallerRateLimited(caller, *wait), done);
      return nullptr;
    }
  }
  gitlab::AddCorrelationHeaders(request, rpc.correlation,
                                &call.http.header_lines);
  call.http.flow = flow;
  if (url != nullptr) call.http.url = *url;
  call.http.account = std::move(account);
  call.http.sink = std::move(sink);
  call.http.source = std::move(source);
  return upstream_->Start(std::move(call), std::move(done));
}

}  // namespace gitlab_gateway::server
