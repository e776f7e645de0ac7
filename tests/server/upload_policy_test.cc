// The policy's max_body_bytes holds for streamed bodies too: an Upload is
// judged on the size it announces before anything goes upstream, the stream
// is held to that size, and an Upload without a size is refused for a caller
// whose rule limits bodies (its size cannot be judged up front).

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"
#include "tests/server/policy_harness.h"
#include "tests/support/sha256_hex.h"

namespace gitlab_gateway::testing {
namespace {

constexpr char kBotSecret[] = "upload-policy-bot-secret";
constexpr char kFreeSecret[] = "upload-policy-free-secret";
constexpr char kPackage[] = "/projects/7/packages/generic/tool/1.0/tool.bin";

class UploadPolicyTest : public ::testing::Test {
 protected:
  UploadPolicyTest()
      : h_([this](server::GatewayConfig& config) {
          SecureConfig(dir_, R"({"callers": [
              {"name": "bot", "credentials": ["default"],
               "max_body_bytes": 1024},
              {"name": "free", "credentials": ["default"]}]})")(config);
          callers_ = dir_.policy_path() + ".callers";
          std::ofstream(callers_)
              << "bot " << Sha256Hex(kBotSecret) << "\n"
              << "free " << Sha256Hex(kFreeSecret) << "\n";
          config.callers_file = callers_;
        }) {}
  ~UploadPolicyTest() override { std::remove(callers_.c_str()); }

  // Uploads `bytes` bytes as the caller with `secret`, announcing
  // `announced` as the size when it is >= 0.
  grpc::Status Upload(const std::string& secret, size_t bytes,
                      int64_t announced) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    context.AddMetadata("authorization", absl::StrCat("Bearer ", secret));
    v1::Response response;
    auto writer = h_.stub->Upload(&context, &response);
    v1::UploadChunk first;
    first.mutable_request()->set_method("PUT");
    first.mutable_request()->set_path(kPackage);
    if (announced >= 0) first.set_size(announced);
    bool open = writer->Write(first);
    for (size_t sent = 0; open && sent < bytes; sent += 512) {
      v1::UploadChunk data;
      data.set_data(std::string(std::min<size_t>(512, bytes - sent), 'u'));
      open = writer->Write(data);
    }
    writer->WritesDone();
    return writer->Finish();
  }

  void ExpectDeniedBeforeGitLab(const grpc::Status& status) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << status.error_message();
    EXPECT_THAT(status, HasReason("CALLER_NOT_ALLOWED"));
    EXPECT_EQ(InfoMetadata(status, "caller"), "bot");
    EXPECT_EQ(InfoMetadata(status, "rule"), "max_body_bytes");
    EXPECT_EQ(h_.fake.request_count(), 0u);
  }

  PolicyDir dir_;
  std::string callers_;
  GatewayHarness h_;
};

TEST_F(UploadPolicyTest, AnAnnouncedSizeWithinTheLimitIsAllowed) {
  grpc::Status status = Upload(kBotSecret, 1024, 1024);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(h_.fake.request_count(), 1u);
  EXPECT_EQ(h_.fake.requests().back().body.size(), 1024u);
}

TEST_F(UploadPolicyTest, AnAnnouncedSizeOverTheLimitSendsNothing) {
  grpc::Status status = Upload(kBotSecret, 1025, 1025);
  ExpectDeniedBeforeGitLab(status);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("1024"));
}

TEST_F(UploadPolicyTest, AnUnannouncedSizeIsRefusedWhenBodiesAreLimited) {
  grpc::Status status = Upload(kBotSecret, 100, -1);
  ExpectDeniedBeforeGitLab(status);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("UploadChunk.size"));
  // A caller whose rule sets no limit may stream without a size: the call
  // goes up (chunked; the fake answers chunked bodies with 411).
  status = Upload(kFreeSecret, 3000, -1);
  EXPECT_EQ(OnlyDetail<v1::GitLabError>(status).status_code(), 411);
}

TEST_F(UploadPolicyTest, MoreBytesThanAnnouncedFailTheCall) {
  // Announcing a small size does not let the caller send a big body.
  grpc::Status status = Upload(kBotSecret, 4096, 1000);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_THAT(status, HasReason("SIZE_MISMATCH"));
  // GitLab got at most the announced 1000 bytes (the fake records a request
  // once its Content-Length body is complete, so none or one).
  EXPECT_LE(h_.fake.request_count(), 1u);
  for (const RecordedRequest& r : h_.fake.requests()) {
    EXPECT_LE(r.body.size(), 1000u);
  }
}

}  // namespace
}  // namespace gitlab_gateway::testing
