#include "service/server/upstream_caller.h"

#include <utility>

#include "absl/time/clock.h"

namespace gitlab_gateway::server {
namespace {

gitlab::PrepareOptions PrepareOptionsOf(const UpstreamOptions& options) {
  return gitlab::PrepareOptions{options.base_url, options.default_credential,
                                options.default_timeout, options.max_timeout};
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
      recorder_(recorder) {}

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
    std::shared_ptr<engine::ByteAccount> account) {
  const absl::Time now = absl::Now();
  gitlab::PreparedCall call;
  grpc::Status refused =
      gitlab::Prepare(request, prepare_, rpc_deadline, now, &call);
  if (recorder_ != nullptr) {
    // Recorded where the call ends, before the reactor sees it.
    CallFacts facts;
    facts.caller = caller.name;
    facts.rpc = rpc.rpc;
    facts.id = request.id();
    if (refused.ok()) {
      facts.method = call.http.method;
      facts.route = call.route;
      facts.credential_class = call.credential_class;
    }
    facts.request_id = std::string(
        gitlab::SentRequestId(request, rpc.correlation.request_id));
    facts.started = now;
    done = [recorder = recorder_, facts = std::move(facts),
            done = std::move(done)](CallOutcome outcome) mutable {
      recorder->Record(facts, outcome.status, outcome.response);
      done(std::move(outcome));
    };
  }
  if (!refused.ok()) {
    CallOutcome outcome;
    outcome.response.set_id(request.id());
    outcome.status = std::move(refused);
    done(std::move(outcome));
    return nullptr;
  }
  gitlab::AddCorrelationHeaders(request, rpc.correlation,
                                &call.http.header_lines);
  call.http.flow = flow;
  if (url != nullptr) call.http.url = *url;
  call.http.account = std::move(account);
  return upstream_->Start(std::move(call), std::move(done));
}

}  // namespace gitlab_gateway::server
