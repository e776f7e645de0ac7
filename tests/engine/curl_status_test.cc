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
      {CURLE_UNSUPPORTED_PROTOCOL, false, absl::StatusCode::kFailedPrecondition,
       "UPSTREAM_PROTOCOL_REFUSED"},
      {CURLE_WRITE_ERROR, true, absl::StatusCode::kResourceExhausted,
       "RESPONSE_TOO_LARGE"},
      {CURLE_WRITE_ERROR, false, absl::StatusCode::kInternal, "UPSTREAM_ERROR"},
      {CURLE_ABORTED_BY_CALLBACK, false, absl::StatusCode::kCancelled,
       "CANCELLED"},
  };
  for (const Row& row : rows) {
    absl::Status status = CurlResultToStatus(row.code, "detail", row.too_large);
    SCOPED_TRACE(curl_easy_strerror(row.code));
    EXPECT_EQ(status.code(), row.status);
    EXPECT_EQ(ReasonOf(status), row.reason);
  }
}

// Only the connect timeout ends a transfer before its deadline.
TEST(CurlStatusTest, TimeoutBeforeTheDeadlineIsAConnectFailure) {
  absl::Status early = CurlResultToStatus(CURLE_OPERATION_TIMEDOUT, "", false,
                                          /*before_deadline=*/true);
  EXPECT_EQ(early.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(early), "UPSTREAM_CONNECT_FAILURE");
  absl::Status other = CurlResultToStatus(CURLE_COULDNT_RESOLVE_HOST, "", false,
                                          /*before_deadline=*/true);
  EXPECT_EQ(ReasonOf(other), "UPSTREAM_DNS_FAILURE");
}

TEST(CurlStatusTest, OkIsOkAndDetailIsKept) {
  EXPECT_TRUE(CurlResultToStatus(CURLE_OK, "", false).ok());
  absl::Status status =
      CurlResultToStatus(CURLE_COULDNT_CONNECT, "Connection refused", false);
  EXPECT_NE(status.message().find("Connection refused"), absl::string_view::npos);
}

TEST(CurlStatusTest, ReasonOfAbsentIsNullopt) {
  EXPECT_EQ(ReasonOf(absl::UnavailableError("x")), std::nullopt);
  EXPECT_EQ(ReasonOf(WithReason(absl::UnavailableError("x"), "R")), "R");
}

}  // namespace
}  // namespace gitlab_gateway::engine
