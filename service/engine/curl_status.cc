#include "service/engine/curl_status.h"

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

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
    {CURLE_HTTP2, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECTION_FAILURE"},
    {CURLE_HTTP2_STREAM, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECTION_FAILURE"},
    {CURLE_WEIRD_SERVER_REPLY, absl::StatusCode::kUnavailable,
     "UPSTREAM_PROTOCOL_ERROR"},
    // After the request went out: "Received HTTP/0.9 when not allowed",
    // "Unsupported HTTP version in response". See kBeforeRequestTable.
    {CURLE_UNSUPPORTED_PROTOCOL, absl::StatusCode::kUnavailable,
     "UPSTREAM_PROTOCOL_ERROR"},
    {CURLE_URL_MALFORMAT, absl::StatusCode::kInvalidArgument, "INVALID_URL"},
    {CURLE_OUT_OF_MEMORY, absl::StatusCode::kResourceExhausted,
     "GATEWAY_OUT_OF_MEMORY"},
    {CURLE_ABORTED_BY_CALLBACK, absl::StatusCode::kCancelled, "CANCELLED"},
};

// Codes that mean something else when no request went out. The timeout row
// applies only when the connect timeout ends before the deadline.
constexpr CurlRow kBeforeRequestTable[] = {
    {CURLE_OPERATION_TIMEDOUT, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECT_FAILURE"},
    // Every connection curl tried was refused as unclean before sending
    // (ConnectionGuard) until curl gave up: no usable connection, nothing
    // sent.
    {CURLE_SEND_ERROR, absl::StatusCode::kUnavailable,
     "UPSTREAM_CONNECT_FAILURE"},
    {CURLE_UNSUPPORTED_PROTOCOL, absl::StatusCode::kFailedPrecondition,
     "UPSTREAM_PROTOCOL_REFUSED"},
};

const CurlRow* FindRow(absl::Span<const CurlRow> table, CURLcode code) {
  for (const CurlRow& row : table) {
    if (row.code == code) return &row;
  }
  return nullptr;
}

}  // namespace

absl::Status CurlResultToStatus(CURLcode code, absl::string_view detail,
                                const TransferFacts& facts) {
  if (code == CURLE_OK) return absl::OkStatus();
  if (facts.headers_too_large && code == CURLE_WRITE_ERROR) {
    return WithReason(
        absl::UnavailableError(absl::StrCat(
            "upstream answer has more than ", facts.max_headers,
            " header lines or ", facts.max_header_bytes, " header bytes")),
        "UPSTREAM_PROTOCOL_ERROR");
  }
  if (facts.too_large && code == CURLE_WRITE_ERROR) {
    return WithReason(absl::ResourceExhaustedError(
                          "upstream: response exceeds the response byte cap"),
                      "RESPONSE_TOO_LARGE");
  }
  std::string message = absl::StrCat("upstream: ", curl_easy_strerror(code));
  if (!detail.empty()) absl::StrAppend(&message, ": ", detail);
  const CurlRow* row = nullptr;
  if (!facts.request_sent &&
      (code != CURLE_OPERATION_TIMEDOUT || facts.connect_timeout_first)) {
    row = FindRow(kBeforeRequestTable, code);
  }
  if (row == nullptr) row = FindRow(kCurlTable, code);
  if (row != nullptr) {
    return WithReason(absl::Status(row->status, message), row->reason);
  }
  return WithReason(absl::InternalError(message), "UPSTREAM_ERROR");
}

}  // namespace gitlab_gateway::engine
