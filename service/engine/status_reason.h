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

// Marks a transport failure that happened before any response byte arrived
// (a reset there is safe to retry for idempotent methods).
inline constexpr absl::string_view kNoResponsePayloadUrl =
    "type.gitlab-gateway/no-response";

inline absl::Status WithNoResponse(absl::Status status) {
  status.SetPayload(kNoResponsePayloadUrl, absl::Cord("1"));
  return status;
}

inline bool ResponseStarted(const absl::Status& status) {
  return !status.GetPayload(kNoResponsePayloadUrl).has_value();
}

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_STATUS_REASON_H_
