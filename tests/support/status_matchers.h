#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_STATUS_MATCHERS_H_

// GoogleTest assertions and gMock matchers over the google.rpc.Status
// details of a grpc::Status (or of a BatchExecute item's error): the one
// copy every test uses. Test thread only.
//
//   EXPECT_THAT(status, HasReason("GITLAB_NOT_FOUND"));
//   auto retry = OnlyDetail<google::rpc::RetryInfo>(status);
//   EXPECT_EQ(ViolatedField(RpcStatus(status)), "request.path");

#include <grpcpp/grpcpp.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_details.h"

namespace gitlab_gateway::testing {

// The google.rpc.Status carried in `status`'s error details. The test fails
// when they do not parse, or when they carry another code or message than
// the status itself. A status without details gives an empty one.
inline google::rpc::Status RpcStatus(const grpc::Status& status) {
  std::optional<google::rpc::Status> rpc = ParseRpcStatus(status);
  EXPECT_TRUE(rpc.has_value()) << "error_details do not parse";
  if (!rpc.has_value()) return {};
  if (!status.error_details().empty()) {
    EXPECT_EQ(rpc->code(), static_cast<int>(status.error_code()))
        << "the details' google.rpc.Status has another code";
    EXPECT_EQ(rpc->message(), status.error_message())
        << "the details' google.rpc.Status has another message";
  }
  return *std::move(rpc);
}

// Every detail of type T in `status`'s details (see RpcStatus).
template <typename T>
std::vector<T> Details(const grpc::Status& status) {
  return Details<T>(RpcStatus(status));
}

// The single detail of type T; the test fails when there is not exactly one.
template <typename T>
T OnlyDetail(const google::rpc::Status& rpc) {
  std::vector<T> all = Details<T>(rpc);
  EXPECT_EQ(all.size(), 1u) << "expected exactly one " << T().GetTypeName();
  return all.empty() ? T() : all.front();
}
template <typename T>
T OnlyDetail(const grpc::Status& status) {
  return OnlyDetail<T>(RpcStatus(status));
}

// The reason of the one ErrorInfo; "" when there is not exactly one.
inline std::string Reason(const google::rpc::Status& rpc) {
  std::vector<std::string> reasons = Reasons(rpc);
  return reasons.size() == 1 ? reasons.front() : "";
}

// The field of the one violation of the one BadRequest; "" otherwise.
inline std::string ViolatedField(const google::rpc::Status& rpc) {
  std::vector<google::rpc::BadRequest> bad =
      Details<google::rpc::BadRequest>(rpc);
  if (bad.size() != 1 || bad[0].field_violations_size() != 1) return "";
  return bad[0].field_violations(0).field();
}

namespace status_matchers_internal {
inline std::optional<google::rpc::Status> AsRpcStatus(
    const grpc::Status& status) {
  return ParseRpcStatus(status);
}
inline std::optional<google::rpc::Status> AsRpcStatus(
    const google::rpc::Status& rpc) {
  return rpc;
}
}  // namespace status_matchers_internal

// Matches a grpc::Status or a google.rpc.Status whose details hold exactly
// one ErrorInfo, with reason `reason`.
MATCHER_P(HasReason, reason,
          std::string(negation ? "doesn't have" : "has") +
              " exactly one ErrorInfo, with reason " +
              ::testing::PrintToString(reason)) {
  std::optional<google::rpc::Status> rpc =
      status_matchers_internal::AsRpcStatus(arg);
  if (!rpc.has_value()) {
    *result_listener << "whose error_details do not parse";
    return false;
  }
  std::vector<std::string> reasons = Reasons(*rpc);
  *result_listener << "whose ErrorInfo reasons are ["
                   << absl::StrJoin(reasons, ", ") << "]";
  return reasons.size() == 1 && reasons.front() == reason;
}

}  // namespace gitlab_gateway::testing

namespace grpc {
// Failure messages show a grpc::Status as its code and message (GoogleTest
// finds PrintTo in the type's namespace).
inline void PrintTo(const Status& status, std::ostream* os) {
  *os << "grpc::Status(code " << status.error_code() << ", \""
      << status.error_message() << "\")";
}
}  // namespace grpc

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_STATUS_MATCHERS_H_
