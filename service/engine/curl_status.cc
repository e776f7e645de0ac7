#include "service/engine/curl_status.h"

#include "absl/strings/str_cat.h"

namespace gitlab_gateway::engine {
namespace {

struct CurlRow {
  CURLcode code;
  absl::StatusCode status;
  const char* reason;
};

// Connect/reset/TLS/DNS failures are UNAVAILABLE: the caller may retry.
constexpr CurlRow kCurlTable[] = {
    {CURLE_OPERATION_TIMEDOUT, absl::StatusCode::kDeadlineExceeded,
     "UPSTREAM_TIMEOUT"},
    {CURLE_COULDNT_RESOLVE_HOST, absl::StatusCode::kUnavailable,
     "UPSTREAM_DNS_FAILURE"},
    {CURLE_COULDNT_RESOLVE_PROXY, absl::StatusCode::kUnavailable,
     "UPSTREAM_DNS_FAILURE"},
    {CURLE_COULDNT_CONNECT, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECT_FAILURE"},
    {CURLE_SSL_CONNECT_ERROR, absl::StatusCode::kUnavailable,
     "UPSTREAM_TLS_FAILURE"},
    {CURLE_PEER_FAILED_VERIFICATION, absl::StatusCode::kUnavailable,
     "UPSTREAM_TLS_FAILURE"},
    {CURLE_SSL_CERTPROBLEM, absl::StatusCode::kUnavailable,
     "UPSTREAM_TLS_FAILURE"},
    {CURLE_SSL_CIPHER, absl::StatusCode::kUnavailable, "UPSTREAM_TLS_FAILURE"},
    {CURLE_SSL_CACERT_BADFILE, absl::StatusCode::kUnavailable,
     "UPSTREAM_TLS_FAILURE"},
    {CURLE_SSL_ISSUER_ERROR, absl::StatusCode::kUnavailable,
     "UPSTREAM_TLS_FAILURE"},
    {CURLE_SEND_ERROR, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECTION_FAILURE"},
    {CURLE_RECV_ERROR, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECTION_FAILURE"},
    {CURLE_GOT_NOTHING, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECTION_FAILURE"},
    {CURLE_PARTIAL_FILE, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECTION_FAILURE"},
    {CURLE_HTTP2, absl::StatusCode::kUnavailable, "UPSTREAM_CONNECTION_FAILURE"},
    {CURLE_HTTP2_STREAM, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECTION_FAILURE"},
    {CURLE_WEIRD_SERVER_REPLY, absl::StatusCode::kUnavailable,
     "UPSTREAM_PROTOCOL_ERROR"},
    {CURLE_UNSUPPORTED_PROTOCOL, absl::StatusCode::kFailedPrecondition,
     "UPSTREAM_PROTOCOL_REFUSED"},
    {CURLE_URL_MALFORMAT, absl::StatusCode::kInvalidArgument, "INVALID_URL"},
    {CURLE_OUT_OF_MEMORY, absl::StatusCode::kResourceExhausted,
     "GATEWAY_OUT_OF_MEMORY"},
    {CURLE_ABORTED_BY_CALLBACK, absl::StatusCode::kCancelled, "CANCELLED"},
};

}  // namespace

absl::Status CurlResultToStatus(CURLcode code, absl::string_view detail,
                                bool too_large, bool before_deadline) {
  if (code == CURLE_OK) return absl::OkStatus();
  if (too_large && code == CURLE_WRITE_ERROR) {
    return WithReason(absl::ResourceExhaustedError(
                          "upstream: response exceeds the response byte cap"),
                      "RESPONSE_TOO_LARGE");
  }
  std::string message = absl::StrCat("upstream: ", curl_easy_strerror(code));
  if (!detail.empty()) absl::StrAppend(&message, ": ", detail);
  if (code == CURLE_OPERATION_TIMEDOUT && before_deadline) {
    return WithReason(absl::UnavailableError(message),
                      "UPSTREAM_CONNECT_FAILURE");
  }
  for (const CurlRow& row : kCurlTable) {
    if (row.code == code) {
      return WithReason(absl::Status(row.status, message), row.reason);
    }
  }
  return WithReason(absl::InternalError(message), "UPSTREAM_ERROR");
}

absl::Status ResponseHeadersTooLarge(size_t max_headers, size_t max_bytes) {
  return WithReason(
      absl::UnavailableError(absl::StrCat(
          "upstream answer has more than ", max_headers, " header lines or ",
          max_bytes, " header bytes")),
      "UPSTREAM_PROTOCOL_ERROR");
}

}  // namespace gitlab_gateway::engine
