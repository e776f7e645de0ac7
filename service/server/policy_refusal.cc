#include "service/server/policy_refusal.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "service/gitlab/status_details.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::server {
namespace {

google::rpc::ErrorInfo Info(absl::string_view reason,
                            const auth::Caller& caller,
                            absl::string_view rule) {
  google::rpc::ErrorInfo info =
      gitlab::MakeErrorInfo(reason, gitlab::kGatewayDomain, 0);
  (*info.mutable_metadata())["caller"] = caller.name;
  (*info.mutable_metadata())["rule"] = std::string(rule);
  return info;
}

}  // namespace

grpc::Status PolicyRefusal(const auth::Decision& decision,
                           const auth::Caller& caller) {
  const bool unauthenticated =
      decision.verdict == auth::Decision::Verdict::kUnauthenticated;
  return gitlab::StatusBuilder(unauthenticated
                                   ? grpc::StatusCode::UNAUTHENTICATED
                                   : grpc::StatusCode::PERMISSION_DENIED,
                               decision.message)
      .Add(Info(
          unauthenticated ? "CALLER_UNAUTHENTICATED" : "CALLER_NOT_ALLOWED",
          caller, decision.rule))
      .Build();
}

grpc::Status CallerRateLimited(const auth::Caller& caller,
                               absl::Duration delay) {
  return gitlab::StatusBuilder(
             grpc::StatusCode::RESOURCE_EXHAUSTED,
             absl::StrCat("caller \"", caller.name,
                          "\" is over its calls_per_minute; retry in ",
                          absl::FormatDuration(delay)))
      .Add(Info("CALLER_RATE_LIMITED", caller, "calls_per_minute"))
      .Add(gitlab::MakeRetryInfo(delay))
      .Build();
}

}  // namespace gitlab_gateway::server
