#include "service/server/call_recorder.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "service/gitlab/correlation_headers.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;
namespace {

absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

std::string GitLabRequestId(const v1::Response& response) {
  for (const v1::Header& header : response.headers()) {
    if (absl::EqualsIgnoreCase(header.name(), gitlab::kRequestIdHeader)) {
      // Cut before the copy: the log keeps kMaxFieldBytes of it.
      return header.value().substr(0, log::kMaxFieldBytes + 1);
    }
  }
  return "";
}

// Refused by the gateway itself before any attempt (bad input, metadata,
// budget, rate limit, policy); a caller's own cancel is not a refusal.
bool IsRefusal(const grpc::Status& status, const v1::Response& response) {
  return !status.ok() && response.status_code() == 0 &&
         response.attempts() == 0 &&
         status.error_code() != grpc::StatusCode::CANCELLED;
}

}  // namespace

CallRecorder::CallRecorder(metrics::Metrics* metrics, log::AccessLog* log)
    : metrics_(metrics), log_(log) {}

void CallRecorder::Record(const CallFacts& facts, const grpc::Status& status,
                          const v1::Response& response) const {
  const absl::Time now = absl::Now();
  if (metrics_ != nullptr) {
    metrics_->CallFinished(facts.rpc, facts.caller, status.error_code());
    if (IsRefusal(status, response)) {
      // Refusals carry small details (no GitLab answer): parsed here.
      metrics_->CountRefusal(log::ErrorReason(status.error_details()),
                             facts.caller);
    }
  }
  if (log_ == nullptr) return;
  log::AccessRecord record;
  record.time = now;
  record.caller = facts.caller;
  record.rpc = std::string(facts.rpc);
  record.id = facts.id;
  record.method = facts.method;
  record.route = facts.route;
  record.credential_class = facts.credential_class;
  record.credential_name = facts.credential_name;
  record.http_status = response.status_code();
  record.grpc_code = status.error_code();
  record.error_details = status.error_details();
  record.attempts = response.attempts();
  record.upstream_latency = ToDuration(response.upstream_latency());
  record.total_latency = now - facts.started;
  record.gitlab_request_id = GitLabRequestId(response);
  record.request_id = facts.request_id;
  log_->Record(std::move(record));
}

}  // namespace gitlab_gateway::server
