#include "service/engine/curl_status.h"

#include "gtest/gtest.h"

namespace gitlab_gateway::engine {
namespace {

struct Row {
  CURLcode code;
  bool too_large;
  absl::StatusCode status;
  const char* reason;
};

// After the request went out (the usual case).
TEST(CurlStatusTest, MapsEachRow) {
  const Row rows[] = {
      {CURLE_OPERATION_TIMEDOUT, false, absl::StatusCode::kDeadlineExceeded,
       "UPSTREAM_TIMEOUT"},
      {CURLE_COULDNT_RESOLVE_HOST, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_DNS_FAILURE"},
      {CURLE_COULDNT_CONNECT, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_CONNECT_FAILURE"},
      {CURLE_PEER_FAILED_VERIFICATION, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_TLS_FAILURE"},
      {CURLE_SSL_CONNECT_ERROR, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_TLS_FAILURE"},
      {CURLE_RECV_ERROR, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_CONNECTION_FAILURE"},
      {CURLE_GOT_NOTHING, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_CONNECTION_FAILURE"},
      {CURLE_PARTIAL_FILE, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_CONNECTION_FAILURE"},
      {CURLE_HTTP2_STREAM, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_CONNECTION_FAILURE"},
      {CURLE_WEIRD_SERVER_REPLY, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_PROTOCOL_ERROR"},
      // "Received HTTP/0.9 when not allowed", "Unsupported HTTP version".
      {CURLE_UNSUPPORTED_PROTOCOL, false, absl::StatusCode::kUnavailable,
       "UPSTREAM_PROTOCOL_ERROR"},
      {CURLE_WRITE_ERROR, true, absl::StatusCode::kResourceExhausted,
       "RESPONSE_TOO_LARGE"},
      {CURLE_WRITE_ERROR, false, absl::StatusCode::kInternal, "UPSTREAM_ERROR"},
      {CURLE_ABORTED_BY_CALLBACK, false, absl::StatusCode::kCancelled,
       "CANCELLED"},
  };
  for (const Row& row : rows) {
    TransferFacts facts;
    facts.too_large = row.too_large;
    facts.request_sent = true;
    facts.connect_timeout_first = true;
    absl::Status status = CurlResultToStatus(row.code, "detail", facts);
    SCOPED_TRACE(curl_easy_strerror(row.code));
    EXPECT_EQ(status.code(), row.status);
    EXPECT_EQ(ReasonOf(status), row.reason);
  }
}

struct PhaseRow {
  const char* name;
  CURLcode code;
  bool request_sent;
  bool connect_timeout_first;
  absl::StatusCode status;
  const char* reason;
};

// The same curl code means different things before and after the request
// went out.
TEST(CurlStatusTest, MapsEachCodeByWhetherTheRequestWentOut) {
  const PhaseRow rows[] = {
      {"connect timeout ran out first", CURLE_OPERATION_TIMEDOUT, false, true,
       absl::StatusCode::kUnavailable, "UPSTREAM_CONNECT_FAILURE"},
      {"deadline ran out while connecting", CURLE_OPERATION_TIMEDOUT, false,
       false, absl::StatusCode::kDeadlineExceeded, "UPSTREAM_TIMEOUT"},
      // GitLab got the request (endless 1xx, a stall): never a connect
      // failure, whichever timeout is shorter.
      {"timeout after the request", CURLE_OPERATION_TIMEDOUT, true, true,
       absl::StatusCode::kDeadlineExceeded, "UPSTREAM_TIMEOUT"},
      {"timeout after the request, deadline first", CURLE_OPERATION_TIMEDOUT,
       true, false, absl::StatusCode::kDeadlineExceeded, "UPSTREAM_TIMEOUT"},
      {"scheme refused by the gateway", CURLE_UNSUPPORTED_PROTOCOL, false, true,
       absl::StatusCode::kFailedPrecondition, "UPSTREAM_PROTOCOL_REFUSED"},
      {"scheme refused, deadline first", CURLE_UNSUPPORTED_PROTOCOL, false,
       false, absl::StatusCode::kFailedPrecondition,
       "UPSTREAM_PROTOCOL_REFUSED"},
      {"answer that is not HTTP", CURLE_UNSUPPORTED_PROTOCOL, true, true,
       absl::StatusCode::kUnavailable, "UPSTREAM_PROTOCOL_ERROR"},
      {"every connection refused before sending", CURLE_SEND_ERROR, false, true,
       absl::StatusCode::kUnavailable, "UPSTREAM_CONNECT_FAILURE"},
      {"send failed after the request started", CURLE_SEND_ERROR, true, true,
       absl::StatusCode::kUnavailable, "UPSTREAM_CONNECTION_FAILURE"},
      // Codes without a second meaning map the same in both phases.
      {"connect refused", CURLE_COULDNT_CONNECT, false, true,
       absl::StatusCode::kUnavailable, "UPSTREAM_CONNECT_FAILURE"},
      {"weird reply", CURLE_WEIRD_SERVER_REPLY, false, false,
       absl::StatusCode::kUnavailable, "UPSTREAM_PROTOCOL_ERROR"},
      {"reset", CURLE_RECV_ERROR, false, true, absl::StatusCode::kUnavailable,
       "UPSTREAM_CONNECTION_FAILURE"},
  };
  for (const PhaseRow& row : rows) {
    SCOPED_TRACE(row.name);
    TransferFacts facts;
    facts.request_sent = row.request_sent;
    facts.connect_timeout_first = row.connect_timeout_first;
    absl::Status status = CurlResultToStatus(row.code, "", facts);
    EXPECT_EQ(status.code(), row.status);
    EXPECT_EQ(ReasonOf(status), row.reason);
  }
}

TEST(CurlStatusTest, OkIsOkAndDetailIsKept) {
  EXPECT_TRUE(CurlResultToStatus(CURLE_OK, "", TransferFacts{}).ok());
  absl::Status status = CurlResultToStatus(
      CURLE_COULDNT_CONNECT, "Connection refused", TransferFacts{});
  EXPECT_NE(status.message().find("Connection refused"),
            absl::string_view::npos);
}

TEST(CurlStatusTest, UnknownCodesAreInternal) {
  absl::Status status =
      CurlResultToStatus(CURLE_FTP_WEIRD_PASV_REPLY, "", TransferFacts{});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ReasonOf(status), "UPSTREAM_ERROR");
}

TEST(CurlStatusTest, ReasonOfAbsentIsNullopt) {
  EXPECT_EQ(ReasonOf(absl::UnavailableError("x")), std::nullopt);
  EXPECT_EQ(ReasonOf(WithReason(absl::UnavailableError("x"), "R")), "R");
}

}  // namespace
}  // namespace gitlab_gateway::engine
