#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_

#include <curl/curl.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace gitlab_gateway::engine {

// Type URL of the absl::Status payload that carries an ErrorInfo reason
// (e.g. "UPSTREAM_TIMEOUT"). gitlab/status_mapping reads it back.
inline constexpr absl::string_view kReasonPayloadUrl = "type.gitlab-gateway/reason";

// Attaches `reason` to `status` as the kReasonPayloadUrl payload.
absl::Status WithReason(absl::Status status, absl::string_view reason);

// The reason attached by WithReason, if any.
std::optional<std::string> ReasonOf(const absl::Status& status);

// The one place that maps a finished curl transfer to a status. Table-driven.
// `detail` is curl's error buffer (may be empty); `too_large` says the write
// callback aborted because the response exceeded the byte cap.
// Any thread.
absl::Status CurlResultToStatus(CURLcode code, absl::string_view detail,
                                bool too_large);

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_
