// Hostile input and hostile answers cost only their own call: oversized
// requests are refused as invalid input, and answers whose handling grows with
// their size are bounded or leave the engine thread that every caller shares.
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/engine/engine.h"
#include "service/gitlab/request_validator.h"
#include "service/gitlab/url_builder.h"
#include "service/metrics/metrics.h"
#include "service/pipeline/attempt_loop.h"
#include "service/server/upstream_caller.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;

TEST(HostileRequestTest, TooManyHeadersAreInvalidInputNotOutOfMemory) {
  GatewayHarness h;
  v1::Request request = Get("/projects");
  for (int i = 0; i < 100000; ++i) {
    v1::Header* header = request.add_headers();
    header->set_name("X-A");
    header->set_value("v");
  }
  v1::Response response;
  grpc::Status status = h.Execute(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("headers: at most 100"));
  auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
  EXPECT_EQ(info.reason(), "INVALID_HEADER");
  auto bad = OnlyDetail<google::rpc::BadRequest>(status);
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "headers");
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(HostileRequestTest, UnderscoreCredentialHeadersAreRefused) {
  GatewayHarness h;
  for (const char* name : {"PRIVATE_TOKEN", "Private_Token", "JOB_TOKEN"}) {
    v1::Request request = Get("/projects");
    v1::Header* header = request.add_headers();
    header->set_name(name);
    header->set_value("glpat-someone-else");
    v1::Response response;
    grpc::Status status = h.Execute(request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(status.error_message(), HasSubstr("headers[0].name")) << name;
  }
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(HostileAnswerTest, AnswerWithTooManyHeadersFailsAloneAndAtOnce) {
  GatewayHarness h;
  h.fake.SetHandler([](const RecordedRequest& r) {
    if (!absl::StartsWith(r.path, "/api/v4/flood")) return Reply::Json(200, "{}");
    Reply reply = Reply::Json(404, R"({"message":"404 Not Found"})");
    for (int i = 0; i < 45000; ++i) reply.WithHeader(absl::StrCat("X-", i), "v");
    return reply;
  });
  v1::Response flooded;
  grpc::Status status = h.Execute(Get("/flood"), &flooded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("more than 256 header lines"));
  EXPECT_THAT(status, HasReason("UPSTREAM_PROTOCOL_ERROR"));
  // The gateway goes on serving.
  v1::Response ok;
  EXPECT_TRUE(h.Execute(Get("/projects"), &ok).ok());
}

// Answers are mapped where they completed (the engine thread) only while
// that costs a bounded amount; bigger ones are mapped on the WorkPool.
class MappingThreadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.protocol = "http";
    auto created = engine::Engine::Create(options);
    ASSERT_TRUE(created.ok());
    engine_ = *std::move(created);
    server::UpstreamOptions upstream;
    upstream.base_url = *gitlab::ParseBaseUrl(fake_.base_url());
    upstream.limiter.per_minute = 0;
    upstream.retry.max_attempts = 1;
    pipeline_ = std::make_unique<pipeline::Pipeline>(
        engine_.get(), &metrics_, server::PipelineOptionsOf(upstream));
    caller_ = std::make_unique<server::UpstreamCaller>(pipeline_.get(),
                                                       std::move(upstream));
    fake_.SetHandler([](const RecordedRequest& r) {
      const size_t size =
          absl::StrContains(r.path, "big") ? 4 * pipeline::AttemptLoop::kInlineAnswerBytes : 16;
      const int status = absl::StrContains(r.path, "missing") ? 404 : 200;
      return Reply::Json(status, absl::StrCat("\"", std::string(size, 'a'), "\""));
    });
  }

  // The thread that ran the call's completion, and its status.
  std::pair<std::thread::id, grpc::StatusCode> Call(const std::string& path) {
    absl::Notification done;
    std::pair<std::thread::id, grpc::StatusCode> seen;
    caller_->Start(auth::Caller(), server::RpcInfo{"Execute", {}}, Get(path),
                   absl::Now() + absl::Seconds(10),
                   [&](server::CallOutcome outcome) {
                     seen = {std::this_thread::get_id(),
                             outcome.status.error_code()};
                     done.Notify();
                   });
    done.WaitForNotification();
    return seen;
  }

  FakeGitLab fake_;
  metrics::Metrics metrics_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<server::UpstreamCaller> caller_;
};

TEST_F(MappingThreadTest, BigAnswersAreMappedOffTheEngineThread) {
  auto [engine_thread, small_code] = Call("/small");
  EXPECT_EQ(small_code, grpc::StatusCode::OK);
  EXPECT_EQ(Call("/small-again").first, engine_thread);
  for (const char* path : {"/big", "/big/missing"}) {
    auto [thread, code] = Call(path);
    EXPECT_NE(thread, engine_thread) << path;
    EXPECT_NE(thread, std::this_thread::get_id()) << path;
    EXPECT_EQ(code, absl::StrContains(path, "missing")
                        ? grpc::StatusCode::NOT_FOUND
                        : grpc::StatusCode::OK)
        << path;
  }
}

}  // namespace
}  // namespace gitlab_gateway::testing
