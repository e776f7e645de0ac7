// Answers a retry cannot change are not retried: a GET that GitLab answers
// 400, 401, 403, 408, 409 or 422 reaches it exactly once, through Execute
// and BatchExecute, while retries are enabled (a 503 row shows they are).
// Issue 11 found that a retry on 409 went unnoticed by every other test.
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

constexpr int kNotRetried[] = {400, 401, 403, 408, 409, 422};
constexpr int kMaxAttempts = 3;

// Retries on, immediate, and never refused by the budget: any status the
// gateway wrongly retried would reach the fake kMaxAttempts times.
void RetryEagerly(server::GatewayConfig& config) {
  config.upstream.retry.max_attempts = kMaxAttempts;
  config.upstream.retry.base = absl::Milliseconds(1);
  config.upstream.retry.cap = absl::Milliseconds(1);
  config.upstream.retry_budget_min = 100;
}

// GET /status/<code> is answered <code>, every time.
void AnswerStatusFromPath(FakeGitLab& fake) {
  fake.SetHandler([](const RecordedRequest& r) {
    int code = 500;
    absl::string_view path = r.path;
    if (absl::ConsumePrefix(&path, "/api/v4/status/")) {
      (void)absl::SimpleAtoi(path, &code);
    }
    return Reply::Json(code, absl::StrCat(R"({"message":")", code, R"("})"));
  });
}

v1::Request GetStatus(int code) {
  v1::Request request = Get(absl::StrCat("/status/", code));
  request.set_id(absl::StrCat(code));
  return request;
}

TEST(SingleAttemptTest, ExecuteSendsTheGetOnce) {
  GatewayHarness h(RetryEagerly);
  AnswerStatusFromPath(h.fake);
  for (int code : kNotRetried) {
    SCOPED_TRACE(code);
    h.fake.ClearRecords();
    v1::Response response;
    grpc::Status status = h.Execute(GetStatus(code), &response);
    EXPECT_FALSE(status.ok());
    // Execute returned: every attempt it made has reached the fake.
    EXPECT_EQ(h.fake.request_count(), 1u);
    auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
    EXPECT_EQ(info.metadata().at("httpStatus"), absl::StrCat(code));
    EXPECT_EQ(info.metadata().at("attempts"), "1");
  }
  // The control: the same setup does retry a 503.
  h.fake.ClearRecords();
  v1::Response response;
  grpc::Status status = h.Execute(GetStatus(503), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(h.fake.request_count(), static_cast<size_t>(kMaxAttempts));
  EXPECT_EQ(
      OnlyDetail<google::rpc::ErrorInfo>(status).metadata().at("attempts"),
      absl::StrCat(kMaxAttempts));
}

TEST(SingleAttemptTest, BatchExecuteSendsEachGetOnce) {
  GatewayHarness h(RetryEagerly);
  AnswerStatusFromPath(h.fake);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = h.stub->BatchExecute(&context);
  std::vector<int> codes(std::begin(kNotRetried), std::end(kNotRetried));
  codes.push_back(503);  // the control
  for (int code : codes) EXPECT_TRUE(stream->Write(GetStatus(code)));
  stream->WritesDone();
  std::vector<v1::Response> responses;
  v1::Response response;
  while (stream->Read(&response)) responses.push_back(response);
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(responses.size(), codes.size());
  for (const v1::Response& r : responses) {
    SCOPED_TRACE(r.id());
    EXPECT_EQ(r.status_code(), std::stoi(r.id()));
    const int want = r.id() == "503" ? kMaxAttempts : 1;
    EXPECT_EQ(r.attempts(), want);
    auto infos = Details<google::rpc::ErrorInfo>(r.error());
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos[0].metadata().at("attempts"), absl::StrCat(want));
  }
  // Per path: one request for each status, kMaxAttempts for the 503.
  for (int code : codes) {
    size_t seen = 0;
    for (const RecordedRequest& r : h.fake.requests()) {
      seen += absl::EndsWith(r.path, absl::StrCat("/status/", code));
    }
    EXPECT_EQ(seen, code == 503 ? static_cast<size_t>(kMaxAttempts) : 1u)
        << code;
  }
}

}  // namespace
}  // namespace gitlab_gateway::testing
