#include "service/limits/retry_policy.h"

#include "gtest/gtest.h"

namespace gitlab_gateway::limits {
namespace {

struct Row {
  const char* method;
  int http;
  const char* transport;
  bool started;
  RetryReason want;
};

TEST(RetryPolicyTest, ClassifiesEachRow) {
  const Row rows[] = {
      {"GET", 200, "", false, RetryReason::kNone},
      {"GET", 404, "", false, RetryReason::kNone},
      {"GET", 500, "", false, RetryReason::kNone},
      {"GET", 429, "", false, RetryReason::kRateLimited},
      {"POST", 429, "", false, RetryReason::kRateLimited},
      {"PATCH", 429, "", false, RetryReason::kRateLimited},
      {"GET", 502, "", false, RetryReason::kBadGateway},
      {"HEAD", 503, "", false, RetryReason::kUnavailable},
      {"PUT", 504, "", false, RetryReason::kGatewayTimeout},
      {"DELETE", 503, "", false, RetryReason::kUnavailable},
      {"POST", 503, "", false, RetryReason::kNone},
      {"PATCH", 502, "", false, RetryReason::kNone},
      {"GET", 0, "UPSTREAM_CONNECT_FAILURE", false, RetryReason::kConnectFailure},
      {"POST", 0, "UPSTREAM_CONNECT_FAILURE", false, RetryReason::kConnectFailure},
      {"POST", 0, "UPSTREAM_DNS_FAILURE", false, RetryReason::kConnectFailure},
      {"GET", 0, "UPSTREAM_CONNECTION_FAILURE", false,
       RetryReason::kConnectionReset},
      {"GET", 0, "UPSTREAM_CONNECTION_FAILURE", true, RetryReason::kNone},
      {"POST", 0, "UPSTREAM_CONNECTION_FAILURE", false, RetryReason::kNone},
      {"GET", 0, "UPSTREAM_TIMEOUT", false, RetryReason::kNone},
      {"GET", 0, "UPSTREAM_TLS_FAILURE", false, RetryReason::kNone},
      {"GET", 0, "CANCELLED", false, RetryReason::kNone},
  };
  for (const Row& row : rows) {
    AttemptResult result{row.http, row.transport, row.started};
    EXPECT_EQ(ClassifyForRetry(row.method, result), row.want)
        << row.method << " " << row.http << " " << row.transport;
  }
}

TEST(RetryPolicyTest, FullJitterBackoffGrowsAndIsCapped) {
  RetryOptions options;
  options.base = absl::Milliseconds(100);
  options.cap = absl::Seconds(1);
  EXPECT_EQ(Backoff(options, 1, 0.0), absl::ZeroDuration());
  EXPECT_EQ(Backoff(options, 1, 0.5), absl::Milliseconds(50));
  EXPECT_EQ(Backoff(options, 2, 0.5), absl::Milliseconds(100));
  EXPECT_EQ(Backoff(options, 3, 1.0), absl::Milliseconds(400));
  EXPECT_EQ(Backoff(options, 10, 1.0), absl::Seconds(1));
  EXPECT_EQ(Backoff(options, 1000, 0.5), absl::Milliseconds(500));
}

TEST(RetryPolicyTest, LabelsAreBounded) {
  EXPECT_EQ(RetryReasonLabel(RetryReason::kRateLimited), "rate_limited");
  EXPECT_EQ(RetryReasonLabel(RetryReason::kUnavailable), "http_503");
  EXPECT_EQ(RetryReasonLabel(RetryReason::kConnectFailure), "connect");
}

}  // namespace
}  // namespace gitlab_gateway::limits
