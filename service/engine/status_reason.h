#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_STATUS_REASON_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_STATUS_REASON_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace gitlab_gateway::engine {

// Type URL of the absl::Status payload that carries a google.rpc.ErrorInfo
// reason (e.g. "UPSTREAM_TIMEOUT") from the engine to the one place that maps
// statuses to gRPC (gitlab/status_mapping). Header-only, any thread.
inline constexpr absl::string_view kReasonPayloadUrl =
    "type.gitlab-gateway/reason";

// `status` with `reason` attached.
inline absl::Status WithReason(absl::Status status, absl::string_view reason) {
  status.SetPayload(kReasonPayloadUrl, absl::Cord(reason));
  return status;
}

// The reason attached by WithReason, if any.
inline std::optional<std::string> ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_STATUS_REASON_H_
