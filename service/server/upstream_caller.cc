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
                               UpstreamOptions options)
    : options_(std::move(options)),
      prepare_(PrepareOptionsOf(options_)),
      upstream_(upstream) {}

std::shared_ptr<UpstreamCall> UpstreamCaller::Start(
    const auth::Caller& caller, const v1::Request& request, absl::Time rpc_deadline, CallDone done,
    uint64_t flow, const std::string* url,
    std::shared_ptr<engine::ByteAccount> account,
    std::shared_ptr<engine::BodySink> sink,
    std::shared_ptr<engine::BodySource> source) {
  gitlab::PreparedCall call;
  grpc::Status refused =
      gitlab::Prepare(request, prepare_, rpc_deadline, absl::Now(), &call);
  if (!refused.ok()) {
    CallOutcome outcome;
    outcome.response.set_id(request.id());
    outcome.status = std::move(refused);
    done(std::move(outcome));
    return nullptr;
  }
  call.http.flow = flow;
  if (url != nullptr) call.http.url = *url;
  call.http.account = std::move(account);
  call.http.sink = std::move(sink);
  call.http.source = std::move(source);
  return upstream_->Start(std::move(call), std::move(done));
}

}  // namespace gitlab_gateway::server
