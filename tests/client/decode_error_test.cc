// DecodeError and the absl <-> grpc status conversions, on statuses built by
// hand the way the gateway builds them (status_mapping.h).
#include "gitlab_gateway/client/error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::client {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;

// A 429 from GitLab as the gateway reports it, with one of every detail.
google::rpc::Status FullStatus() {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  rpc.set_message("GitLab 429: Retry later");
  google::rpc::ErrorInfo info;
  info.set_reason("GITLAB_RATE_LIMITED");
  info.set_domain("gitlab.example.com");
  (*info.mutable_metadata())["httpStatus"] = "429";
  (*info.mutable_metadata())["attempts"] = "3";
  (*info.mutable_metadata())["gitlabMessage"] = "Retry later";
  rpc.add_details()->PackFrom(info);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(7);
  retry.mutable_retry_delay()->set_nanos(500'000'000);
  rpc.add_details()->PackFrom(retry);
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field("title");
  v->set_description("can't be blank");
  rpc.add_details()->PackFrom(bad);
  google::rpc::ResourceInfo resource;
  resource.set_resource_type("projects");
  resource.set_resource_name("/projects/42");
  rpc.add_details()->PackFrom(resource);
  v1::GitLabError gitlab;
  gitlab.set_status_code(429);
  gitlab.set_message("Retry later");
  gitlab.set_body("Retry later");
  rpc.add_details()->PackFrom(gitlab);
  return rpc;
}

grpc::Status AsGrpc(const google::rpc::Status& rpc) {
  return grpc::Status(static_cast<grpc::StatusCode>(rpc.code()), rpc.message(),
                      rpc.SerializeAsString());
}

void ExpectFull(const DecodedError& e) {
  EXPECT_EQ(e.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(e.message, "GitLab 429: Retry later");
  EXPECT_TRUE(e.has_details);
  EXPECT_EQ(e.reason, "GITLAB_RATE_LIMITED");
  EXPECT_EQ(e.domain, "gitlab.example.com");
  EXPECT_EQ(e.http_status, 429);
  EXPECT_EQ(e.attempts, 3);
  EXPECT_THAT(e.metadata,
              ::testing::Contains(Pair("gitlabMessage", "Retry later")));
  ASSERT_TRUE(e.retry_delay.has_value());
  EXPECT_EQ(*e.retry_delay, absl::Milliseconds(7500));
  ASSERT_EQ(e.field_violations.size(), 1u);
  EXPECT_EQ(e.field_violations[0].field, "title");
  EXPECT_EQ(e.field_violations[0].description, "can't be blank");
  ASSERT_TRUE(e.resource.has_value());
  EXPECT_EQ(e.resource->resource_name(), "/projects/42");
  ASSERT_TRUE(e.gitlab.has_value());
  EXPECT_EQ(e.gitlab->status_code(), 429);
}

TEST(DecodeErrorTest, GrpcStatusWithEveryDetail) {
  ExpectFull(DecodeError(AsGrpc(FullStatus())));
}

TEST(DecodeErrorTest, RpcStatusOfABatchItem) {
  ExpectFull(DecodeError(FullStatus()));
}

TEST(DecodeErrorTest, AbslStatusKeepsTheDetailsThroughTheRoundTrip) {
  const grpc::Status original = AsGrpc(FullStatus());
  absl::Status status = ToAbslStatus(original);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "GitLab 429: Retry later");
  ASSERT_TRUE(status.GetPayload(kRpcStatusPayloadUrl).has_value());
  ExpectFull(DecodeError(status));

  grpc::Status back = ToGrpcStatus(status);
  EXPECT_EQ(back.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(back.error_message(), original.error_message());
  EXPECT_EQ(back.error_details(), original.error_details());
}

TEST(DecodeErrorTest, StatusWithoutDetailsGivesCodeAndMessageOnly) {
  DecodedError e =
      DecodeError(grpc::Status(grpc::StatusCode::UNAVAILABLE, "no route"));
  EXPECT_EQ(e.code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(e.message, "no route");
  EXPECT_FALSE(e.has_details);
  EXPECT_TRUE(e.reason.empty());
  EXPECT_FALSE(e.retry_delay.has_value());
  EXPECT_FALSE(e.gitlab.has_value());
  EXPECT_FALSE(ToAbslStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "x"))
                   .GetPayload(kRpcStatusPayloadUrl)
                   .has_value());
}

TEST(DecodeErrorTest, UnparsableDetailsAreIgnored) {
  DecodedError e = DecodeError(
      grpc::Status(grpc::StatusCode::INTERNAL, "boom", "\xff\xff not proto"));
  EXPECT_EQ(e.code, grpc::StatusCode::INTERNAL);
  EXPECT_FALSE(e.has_details);
}

TEST(DecodeErrorTest, FirstErrorInfoWinsAndUnknownDetailsAreSkipped) {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(grpc::StatusCode::NOT_FOUND));
  google::rpc::LocalizedMessage unknown;  // a kind DecodedError ignores
  unknown.set_message("nicht gefunden");
  rpc.add_details()->PackFrom(unknown);
  google::rpc::ErrorInfo first, second;
  first.set_reason("GITLAB_NOT_FOUND");
  second.set_reason("OTHER");
  rpc.add_details()->PackFrom(first);
  rpc.add_details()->PackFrom(second);
  DecodedError e = DecodeError(rpc);
  EXPECT_EQ(e.reason, "GITLAB_NOT_FOUND");
  EXPECT_EQ(e.http_status, 0);
}

TEST(DecodeErrorTest, OkStatusesConvertToOk) {
  EXPECT_TRUE(ToAbslStatus(grpc::Status::OK).ok());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(DecodeError(absl::OkStatus()).ok());
}

TEST(DecodeErrorTest, ToStringNamesEveryPart) {
  std::string text = DecodeError(FullStatus()).ToString();
  EXPECT_THAT(text, HasSubstr("RESOURCE_EXHAUSTED: GitLab 429: Retry later"));
  EXPECT_THAT(text,
              HasSubstr("reason: GITLAB_RATE_LIMITED (gitlab.example.com)"));
  EXPECT_THAT(text, HasSubstr("http status: 429"));
  EXPECT_THAT(text, HasSubstr("attempts: 3"));
  EXPECT_THAT(text, HasSubstr("retry after: 7.5s"));
  EXPECT_THAT(text, HasSubstr("field title: can't be blank"));
  EXPECT_THAT(text, HasSubstr("resource: projects /projects/42"));
}

TEST(DecodeErrorTest, CodeNames) {
  EXPECT_EQ(CodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_EQ(CodeName(grpc::StatusCode::DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
  EXPECT_THAT(
      DecodeError(grpc::Status(grpc::StatusCode::NOT_FOUND, "x")).ToString(),
      ::testing::StartsWith("NOT_FOUND: x\n"));
}

}  // namespace
}  // namespace gitlab_gateway::client
