#include "tests/support/status_matchers.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::Not;

// A status carrying `rpc` as its details, with rpc's code and message.
grpc::Status Carrying(const google::rpc::Status& rpc) {
  return grpc::Status(static_cast<grpc::StatusCode>(rpc.code()), rpc.message(),
                      rpc.SerializeAsString());
}

google::rpc::Status WithReasons(std::initializer_list<const char*> reasons) {
  google::rpc::Status rpc;
  rpc.set_code(grpc::StatusCode::NOT_FOUND);
  rpc.set_message("404 Project Not Found");
  for (const char* reason : reasons) {
    google::rpc::ErrorInfo info;
    info.set_reason(reason);
    rpc.add_details()->PackFrom(info);
  }
  google::rpc::RetryInfo retry;
  rpc.add_details()->PackFrom(retry);
  return rpc;
}

TEST(StatusMatchersTest, HasReasonWantsExactlyOneErrorInfoWithThatReason) {
  EXPECT_THAT(WithReasons({"GITLAB_NOT_FOUND"}), HasReason("GITLAB_NOT_FOUND"));
  EXPECT_THAT(Carrying(WithReasons({"GITLAB_NOT_FOUND"})),
              HasReason("GITLAB_NOT_FOUND"));
  EXPECT_THAT(WithReasons({"OTHER"}), Not(HasReason("GITLAB_NOT_FOUND")));
  EXPECT_THAT(WithReasons({}), Not(HasReason("GITLAB_NOT_FOUND")));
  EXPECT_THAT(WithReasons({"GITLAB_NOT_FOUND", "GITLAB_NOT_FOUND"}),
              Not(HasReason("GITLAB_NOT_FOUND")));
  EXPECT_THAT(grpc::Status(grpc::StatusCode::INTERNAL, "x", "\xFF\xFF"),
              Not(HasReason("GITLAB_NOT_FOUND")));
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(WithReasons({"OTHER"}), HasReason("GITLAB_NOT_FOUND")),
      "whose ErrorInfo reasons are [OTHER]");
}

TEST(StatusMatchersTest, DetailsOnlyDetailReasonAndViolatedField) {
  google::rpc::Status rpc = WithReasons({"INVALID_ARGUMENT"});
  google::rpc::BadRequest bad;
  bad.add_field_violations()->set_field("request.path");
  rpc.add_details()->PackFrom(bad);
  const grpc::Status status = Carrying(rpc);
  EXPECT_EQ(Details<google::rpc::ErrorInfo>(status).size(), 1u);
  EXPECT_EQ(Details<google::rpc::ResourceInfo>(rpc).size(), 0u);
  EXPECT_EQ(OnlyDetail<google::rpc::ErrorInfo>(status).reason(),
            "INVALID_ARGUMENT");
  EXPECT_EQ(Reason(rpc), "INVALID_ARGUMENT");
  EXPECT_EQ(ViolatedField(RpcStatus(status)), "request.path");
  EXPECT_EQ(Reason(WithReasons({"A", "B"})), "");
  EXPECT_NONFATAL_FAILURE(OnlyDetail<google::rpc::ResourceInfo>(status),
                          "expected exactly one");
}

TEST(StatusMatchersTest, RpcStatusMustParseAndAgreeWithTheStatus) {
  EXPECT_EQ(RpcStatus(grpc::Status::OK).details_size(), 0);
  EXPECT_EQ(RpcStatus(grpc::Status(grpc::StatusCode::CANCELLED, "gone"))
                .details_size(),
            0);
  EXPECT_NONFATAL_FAILURE(
      RpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, "x", "\xFF\xFF")),
      "error_details do not parse");
  google::rpc::Status rpc = WithReasons({"A"});
  EXPECT_NONFATAL_FAILURE(
      RpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, rpc.message(),
                             rpc.SerializeAsString())),
      "another code");
  EXPECT_NONFATAL_FAILURE(
      RpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "other",
                             rpc.SerializeAsString())),
      "another message");
}

}  // namespace
}  // namespace gitlab_gateway::testing
