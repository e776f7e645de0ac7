#ifndef GITLAB_GATEWAY_CLIENT_ERROR_H_
#define GITLAB_GATEWAY_CLIENT_ERROR_H_

// Typed view of a gitlab-gateway error, so callers never unpack
// google.protobuf.Any by hand. Pure functions and value types; any thread.
//
//   absl::StatusOr<::gitlab::gateway::v1::Response> r =
//   client.Execute(request); if (!r.ok()) {
//     DecodedError e = DecodeError(r.status());
//     if (e.reason == "GITLAB_NOT_FOUND") ...
//     if (e.retry_delay) SleepFor(*e.retry_delay);
//   }

#include <grpcpp/support/status.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace gitlab_gateway::client {

// The absl::Status payload under which the client keeps the serialized
// google.rpc.Status (gRPC's error details) of a failed call.
inline constexpr absl::string_view kRpcStatusPayloadUrl =
    "type.googleapis.com/google.rpc.Status";

// One google.rpc.BadRequest field violation.
struct FieldViolation {
  std::string field;
  std::string description;
};

// Everything a gateway error says, decoded. Absent details leave their
// members empty; `has_details` tells whether a google.rpc.Status was found.
struct DecodedError {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  bool has_details = false;

  // google.rpc.ErrorInfo: reason ("GITLAB_NOT_FOUND", "UPSTREAM_TIMEOUT"...),
  // domain (the GitLab host, or "gitlab-gateway" for the gateway's own
  // errors) and metadata (httpStatus, gitlabMessage, attempts, field...).
  std::string reason;
  std::string domain;
  std::map<std::string, std::string> metadata;
  // Parsed from metadata; 0 when absent.
  int http_status = 0;
  int attempts = 0;

  // google.rpc.RetryInfo.retry_delay (429 with a known delay).
  std::optional<absl::Duration> retry_delay;
  // google.rpc.BadRequest (400, 422 and input the gateway refused).
  std::vector<FieldViolation> field_violations;
  // google.rpc.ResourceInfo (404).
  std::optional<google::rpc::ResourceInfo> resource;
  // gitlab.gateway.v1.GitLabError: present when GitLab itself answered.
  std::optional<::gitlab::gateway::v1::GitLabError> gitlab;

  bool ok() const { return code == grpc::StatusCode::OK; }
  // Multi-line, human-readable summary (what the CLI prints on stderr):
  //   NOT_FOUND: GitLab 404: Project Not Found
  //     reason: GITLAB_NOT_FOUND (gitlab.example.com)
  //     http status: 404, attempts: 1
  //     resource: projects /projects/42
  std::string ToString() const;
};

// Decodes a status returned by a gRPC call (error_details hold the
// serialized google.rpc.Status).
DecodedError DecodeError(const grpc::Status& status);
// Decodes what Client::Execute, Batch and PageStream return (the
// google.rpc.Status rides in the kRpcStatusPayloadUrl payload).
DecodedError DecodeError(const absl::Status& status);
// Decodes a BatchExecute item's Response.error.
DecodedError DecodeError(const google::rpc::Status& status);

// grpc::Status -> absl::Status with the same code and message, keeping
// error_details as the kRpcStatusPayloadUrl payload.
absl::Status ToAbslStatus(const grpc::Status& status);
// The inverse: error_details come back from the payload.
grpc::Status ToGrpcStatus(const absl::Status& status);

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND.
std::string CodeName(grpc::StatusCode code);

}  // namespace gitlab_gateway::client

#endif  // GITLAB_GATEWAY_CLIENT_ERROR_H_
