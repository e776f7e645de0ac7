#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_

#include <curl/curl.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/engine/status_reason.h"

namespace gitlab_gateway::engine {

// What the engine saw of a transfer besides curl's code. curl uses one code
// for failures that mean different things to a caller: a timeout while
// connecting vs. one after GitLab got the request, a scheme the gateway
// refuses vs. an answer that is not HTTP. These facts tell them apart.
struct TransferFacts {
  // The write callback aborted: the response exceeded the byte cap.
  bool too_large = false;
  // The header callback aborted: the answer had more header lines or bytes
  // than these caps (a broken or hostile upstream).
  bool headers_too_large = false;
  size_t max_headers = 0;
  size_t max_header_bytes = 0;
  // A connection was ready and the request went out on it (curl's
  // pre-request callback ran); false when it failed before that.
  bool request_sent = false;
  // The connect timeout ends before the call's deadline, so a timeout before
  // the request went out is the connect timeout, not the deadline.
  bool connect_timeout_first = false;
};

// The one place that maps a finished curl transfer to a status. Table-driven.
// `detail` is curl's error buffer (may be empty). Any thread.
//
// A timeout is UPSTREAM_TIMEOUT (DEADLINE_EXCEEDED) once the request went
// out, whatever the clock says; before that it is a connect failure
// (UNAVAILABLE, safe to retry for any method) when the connect timeout ran
// out first. CURLE_UNSUPPORTED_PROTOCOL is the gateway refusing a scheme
// (UPSTREAM_PROTOCOL_REFUSED) before the request went out, and a broken
// answer (UPSTREAM_PROTOCOL_ERROR: "Received HTTP/0.9", a bad status line)
// after. Too many response headers are UPSTREAM_PROTOCOL_ERROR too. A send
// error before it is every reused connection refused as
// unclean (ConnectionGuard): a connect failure, nothing sent.
absl::Status CurlResultToStatus(CURLcode code, absl::string_view detail,
                                const TransferFacts& facts);

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_CURL_STATUS_H_
