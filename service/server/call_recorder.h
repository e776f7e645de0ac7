#ifndef GITLAB_GATEWAY_SERVICE_SERVER_CALL_RECORDER_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_CALL_RECORDER_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/log/access_log.h"
#include "service/metrics/metrics.h"

namespace gitlab_gateway::server {

// What is known of a call when it starts (or is refused): who, which RPC,
// what it asks. Only names and ids, never a token. Plain value.
struct CallFacts {
  std::string caller;            // auth::Caller::name
  absl::string_view rpc;         // RpcInfo::rpc (static)
  std::string id;                // Request.id
  std::string method;            // "" when refused before Prepare
  std::string route;             // PreparedCall::route
  std::string credential_class;  // PreparedCall::credential_class
  // TODO(wt-policy): PreparedCall's named credential once it exists.
  std::string credential_name;
  std::string request_id;  // the X-Request-Id GitLab was (or would be) sent
  absl::Time started;
};

// "Who called what": for every ended call, one access-log record,
// gitlab_gateway_calls_total and, when the gateway refused it before any
// attempt, gitlab_gateway_refusals_total by ErrorInfo reason.
//
// Record may be called from any thread (engine, pipeline, gRPC); it costs a
// few small copies and a queue push, bounded whatever the answer's size
// (error details are capped at ~7 KiB and parsed by the log's writer).
class CallRecorder {
 public:
  // `log` may be null (--access_log=off); neither is owned, both outlive
  // the recorder's users.
  CallRecorder(metrics::Metrics* metrics, log::AccessLog* log);

  void Record(const CallFacts& facts, const grpc::Status& status,
              const ::gitlab::gateway::v1::Response& response) const;

 private:
  metrics::Metrics* const metrics_;
  log::AccessLog* const log_;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_CALL_RECORDER_H_
