#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_

#include <curl/curl.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/engine/status_reason.h"

namespace gitlab_gateway::engine {

// The one place that maps a finished curl transfer to a status. Table-driven.
// `detail` is curl's error buffer (may be empty); `too_large` says the write
// callback aborted because the response exceeded the byte cap;
// `before_deadline` says the transfer ended before its deadline, which makes
// a timeout the connect timeout (the overall one is the deadline): a connect
// failure, UNAVAILABLE and retryable, instead of DEADLINE_EXCEEDED.
// Any thread.
absl::Status CurlResultToStatus(CURLcode code, absl::string_view detail,
                                bool too_large, bool before_deadline = false);

// An answer whose header block exceeded the engine's caps: a broken or
// hostile upstream, UNAVAILABLE (UPSTREAM_PROTOCOL_ERROR). Any thread.
absl::Status ResponseHeadersTooLarge(size_t max_headers, size_t max_bytes);

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_
