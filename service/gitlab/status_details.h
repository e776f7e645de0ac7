#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_STATUS_DETAILS_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_STATUS_DETAILS_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/gitlab/error_body.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::gitlab {

// Detail builders behind status_mapping.h. Pure; any thread.

// Collects google.rpc details and builds a grpc::Status whose error_details
// is the google.rpc.Status with the same code and message.
class StatusBuilder {
 public:
  StatusBuilder(grpc::StatusCode code, std::string message);

  StatusBuilder& Add(const google::protobuf::Message& detail);
  // The slot of the detail just added, to re-pack it while fitting.
  google::protobuf::Any* last_detail();
  // Estimated wire bytes of the error trailers: grpc-message
  // percent-encoded plus grpc-status-details-bin base64-encoded.
  size_t TrailerBytes() const;
  grpc::Status Build() const;

 private:
  google::rpc::Status rpc_;
};

// `s` cut to at most `max_bytes` of valid UTF-8, ending in "..." when cut.
std::string Ellipsize(absl::string_view s, size_t max_bytes);

// ErrorInfo{reason, domain, metadata attempts (when positive)}.
google::rpc::ErrorInfo MakeErrorInfo(absl::string_view reason,
                                     absl::string_view domain, int attempts);

// The body's field violations (up to ~1 KiB of them, at least one); when it
// has none, one violation for the field quoted in the message (Grape's
// `400 (Bad request) "title" not given`) or "request", described by
// `description`.
google::rpc::BadRequest MakeBadRequest(const ErrorBody& body,
                                       absl::string_view description);

// resource_type: the first path segment ("projects"); resource_name: the path
// without its query; description: `description`.
google::rpc::ResourceInfo MakeResourceInfo(absl::string_view path,
                                           absl::string_view description);

google::rpc::RetryInfo MakeRetryInfo(absl::Duration delay);

// Adds the GitLabError of `answer` and fits it into kMaxErrorTrailerBytes:
// headers are dropped from the end while they alone overflow, then the body
// gets the room left (at most kMaxErrorBodyBytes). Add it last.
void AddGitLabError(const UpstreamAnswer& answer, absl::string_view message,
                    StatusBuilder* status);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_STATUS_DETAILS_H_
