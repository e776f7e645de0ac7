#include "service/auth/caller_identifier.h"

#include <grpc/grpc_security_constants.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace gitlab_gateway::auth {
namespace {

// Longest certificate identity accepted as a caller name.
constexpr size_t kMaxIdentityBytes = 1024;

std::optional<std::string> FirstProperty(const grpc::AuthContext& auth,
                                         const char* name) {
  for (const grpc::string_ref& value : auth.FindPropertyValues(name)) {
    if (value.size() > 0) return std::string(value.data(), value.size());
  }
  return std::nullopt;
}

absl::Status Refuse(absl::string_view why) {
  return absl::UnauthenticatedError(
      absl::StrCat("caller not authenticated: ", why));
}

}  // namespace

std::optional<std::string> CertificateIdentity(const grpc::AuthContext& auth) {
  if (!auth.IsPeerAuthenticated()) return std::nullopt;
  for (const char* property :
       {GRPC_PEER_URI_PROPERTY_NAME, GRPC_PEER_DNS_PROPERTY_NAME,
        GRPC_X509_CN_PROPERTY_NAME}) {
    if (std::optional<std::string> value = FirstProperty(auth, property)) {
      return value;
    }
  }
  return std::nullopt;
}

absl::StatusOr<Caller> CallerIdentifier::Identify(
    const grpc::ServerContextBase& context) const {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  return Identify(auth.get(), context.client_metadata());
}

absl::StatusOr<Caller> CallerIdentifier::Identify(
    const grpc::AuthContext* auth,
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  auto [first, last] = metadata.equal_range("authorization");
  if (first != last) {
    if (std::next(first) != last) {
      return Refuse("more than one authorization metadata value");
    }
    absl::string_view value(first->second.data(), first->second.size());
    constexpr absl::string_view kScheme = "bearer ";
    if (value.size() <= kScheme.size() ||
        !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
      return Refuse("authorization metadata must be \"Bearer <secret>\"");
    }
    if (callers_ == nullptr) {
      return Refuse(
          "a bearer secret was sent but this gateway has no callers file "
          "(--callers_file)");
    }
    absl::string_view secret =
        absl::StripAsciiWhitespace(value.substr(kScheme.size()));
    std::optional<std::string> name = callers_->table()->Find(secret);
    if (!name.has_value()) {
      return Refuse("the bearer secret matches no caller in the callers file");
    }
    return Caller{*std::move(name), Caller::Via::kBearer};
  }
  if (auth != nullptr) {
    if (std::optional<std::string> identity = CertificateIdentity(*auth)) {
      if (identity->size() > kMaxIdentityBytes) {
        return Refuse(
            absl::StrCat("the client certificate's identity has "
                         "more than ",
                         kMaxIdentityBytes, " bytes"));
      }
      return Caller{*std::move(identity), Caller::Via::kCertificate};
    }
  }
  return Caller{};
}

}  // namespace gitlab_gateway::auth
