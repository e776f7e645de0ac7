// What a caller sees, end to end, when the upstream breaks HTTP: garbage or a
// malformed status line (UPSTREAM_PROTOCOL_ERROR, never retried: the request
// was sent), endless 1xx heads until the deadline (UPSTREAM_TIMEOUT, not a
// connect failure that would invite a duplicate POST), and an unrequested
// response on a keep-alive connection (each caller still gets its own answer).
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;

// Retries on, so that a wrong retry decision would show as a second request.
void RetryFast(server::GatewayConfig& config) {
  config.upstream.retry.max_attempts = 3;
  config.upstream.retry.base = absl::Milliseconds(10);
}

v1::Request Post() {
  v1::Request request;
  request.set_method("POST");
  request.set_path("/projects/42/issues");
  request.set_text(R"({"title":"once"})");
  return request;
}

struct Broken {
  const char* name;
  const char* method;
  std::string bytes;
};

TEST(BrokenUpstreamTest, GarbageIsAProtocolErrorAndIsNotRetried) {
  const Broken rows[] = {
      {"garbage, POST", "POST", "<html>not a status line</html>\r\n\r\n"},
      {"garbage, GET", "GET", "<html>not a status line</html>\r\n\r\n"},
      {"malformed status line, POST", "POST",
       "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"},
      {"unknown version, GET", "GET",
       "HTTP/3.7 200 OK\r\nContent-Length: 0\r\n\r\n"},
  };
  for (const Broken& row : rows) {
    SCOPED_TRACE(row.name);
    GatewayHarness h(RetryFast);
    h.fake.SetHandler(
        [&row](const RecordedRequest&) { return Reply::Raw(row.bytes); });
    v1::Request request = Post();
    request.set_method(row.method);
    if (std::string(row.method) == "GET") request.clear_text();
    v1::Response response;
    grpc::Status status = h.Execute(request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << status.error_message();
    auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
    EXPECT_EQ(info.reason(), "UPSTREAM_PROTOCOL_ERROR");
    EXPECT_EQ(info.metadata().at("attempts"), "1");
    EXPECT_EQ(h.fake.request_count(), 1u);
  }
}

TEST(BrokenUpstreamTest,
     EndlessInformationalHeadsAreATimeoutNotAConnectFailure) {
  GatewayHarness h(RetryFast);
  h.fake.SetHandler([](const RecordedRequest&) {
    Reply reply = Reply::Do(Reply::Action::kInformational);
    reply.drip_interval = absl::Milliseconds(1);
    return reply;
  });
  v1::Request request = Post();
  *request.mutable_timeout() =
      google::protobuf::util::TimeUtil::MillisecondsToDuration(300);
  v1::Response response;
  grpc::Status status = h.Execute(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << status.error_message();
  EXPECT_THAT(status, HasReason("UPSTREAM_TIMEOUT"));
  EXPECT_EQ(h.fake.request_count(), 1u);
}

// alice's answer is followed by an unrequested response on her keep-alive
// connection; bob and carol, with their own tokens, must get their own
// answers, and the refused connection shows in the metrics.
TEST(BrokenUpstreamTest, AnUnrequestedResponseNeverReachesAnotherCaller) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.metrics_address = "127.0.0.1:0";
  });
  h.fake.SetHandler([](const RecordedRequest& request) {
    std::string token = request.Header("PRIVATE-TOKEN").value_or("-");
    Reply reply = Reply::Json(200, absl::StrCat(R"({"for":")", token, R"("})"));
    if (token == "alice") {
      reply.unsolicited =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          "Content-Length: 17\r\n\r\n{\"for\":\"mallory\"}";
    }
    return reply;
  });
  auto call = [&h](const std::string& token) {
    v1::Request request;
    request.set_path("/user");
    request.mutable_credentials()->set_private_token(token);
    v1::Response response;
    grpc::Status status = h.Execute(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.text();
  };
  EXPECT_EQ(call("alice"), R"({"for":"alice"})");
  ASSERT_TRUE(h.fake.WaitForUnsolicitedSent(1, absl::Seconds(10)));
  EXPECT_EQ(call("bob"), R"({"for":"bob"})");
  EXPECT_EQ(call("carol"), R"({"for":"carol"})");
  EXPECT_EQ(h.fake.request_count(), 3u);
  EXPECT_THAT(h.ScrapeMetrics(),
              HasSubstr("gitlab_gateway_upstream_unclean_connections_total 1"));
}

}  // namespace
}  // namespace gitlab_gateway::testing
