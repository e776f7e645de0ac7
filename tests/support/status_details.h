#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_STATUS_DETAILS_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_STATUS_DETAILS_H_

// Reading the google.rpc.Status details the gateway sends, for tests and
// for bench/soak (so: no GoogleTest here; status_matchers.h adds the
// assertions and matchers). Pure functions; any thread.
//
//   std::optional<google::rpc::Status> rpc = ParseRpcStatus(status);
//   Details<google::rpc::RetryInfo>(*rpc).size() == 1
//   Reasons(*rpc) == {"GITLAB_NOT_FOUND"}

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace gitlab_gateway::testing {

// The google.rpc.Status in `status`'s error details; nullopt when they do
// not parse. A status without details gives an empty google.rpc.Status.
inline std::optional<google::rpc::Status> ParseRpcStatus(
    const grpc::Status& status) {
  google::rpc::Status rpc;
  if (!rpc.ParseFromString(status.error_details())) return std::nullopt;
  return rpc;
}

// Every detail of type T in `rpc`, in order.
template <typename T>
std::vector<T> Details(const google::rpc::Status& rpc) {
  std::vector<T> out;
  for (const auto& any : rpc.details()) {
    T detail;
    if (any.Is<T>() && any.UnpackTo(&detail)) out.push_back(detail);
  }
  return out;
}

// The reason of every ErrorInfo in `rpc`, in order.
inline std::vector<std::string> Reasons(const google::rpc::Status& rpc) {
  std::vector<std::string> reasons;
  for (const auto& info : Details<google::rpc::ErrorInfo>(rpc)) {
    reasons.push_back(info.reason());
  }
  return reasons;
}

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_STATUS_DETAILS_H_
