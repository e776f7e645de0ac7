#include "service/gitlab/prepared_call.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/gitlab/request_validator.h"
#include "service/gitlab/route_template.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

bool HasHeader(const v1::Request& request, absl::string_view name) {
  for (const v1::Header& header : request.headers()) {
    if (absl::EqualsIgnoreCase(header.name(), name)) return true;
  }
  return false;
}

absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// The header lines after the credential's: sudo, the caller's, Content-Type.
void AddHeaderLines(const v1::Request& request,
                    std::vector<std::string>* lines) {
  if (!request.sudo().empty()) {
    lines->push_back(absl::StrCat("Sudo: ", request.sudo()));
  }
  for (const v1::Header& header : request.headers()) {
    // "Name;" is curl's spelling of a header with an empty value.
    lines->push_back(header.value().empty()
                         ? absl::StrCat(header.name(), ";")
                         : absl::StrCat(header.name(), ": ", header.value()));
  }
  if (request.body_case() == v1::Request::BODY_NOT_SET ||
      HasHeader(request, "Content-Type")) {
    return;
  }
  lines->push_back(request.body_case() == v1::Request::kText
                       ? "Content-Type: application/json"
                       : "Content-Type: application/octet-stream");
}

grpc::Status UnknownCredential(absl::string_view why) {
  return InvalidArgument(
      FieldViolation{"credential_name", std::string(why), "UNKNOWN_CREDENTIAL"});
}

// Sets *credential (nullopt: none), credential_class and credential_name.
grpc::Status ResolveCredential(const v1::Request& request,
                               const PrepareOptions& options,
                               absl::string_view fallback, PreparedCall* call,
                               std::optional<Credential>* credential) {
  *credential = CredentialFromProto(request.credentials());
  if (credential->has_value()) {
    if (!request.credential_name().empty()) {
      return InvalidArgument(FieldViolation{
          "credential_name", "must be empty when credentials are set",
          "INVALID_CREDENTIALS"});
    }
    call->credential_class = "caller";
    call->credential_name = std::string(kRequestCredentialName);
    return grpc::Status::OK;
  }
  call->credential_class = "default";
  absl::string_view name = request.credential_name();
  if (!name.empty()) {
    if (std::string problem = CredentialNameProblem(name); !problem.empty()) {
      return InvalidArgument(
          FieldViolation{"credential_name", problem, "INVALID_CREDENTIALS"});
    }
  } else {
    name = fallback;
  }
  if (name.empty() || name == kDefaultCredentialName) {
    *credential = options.default_credential;
    if (!credential->has_value() && name == kDefaultCredentialName) {
      return UnknownCredential("the gateway holds no default token");
    }
    call->credential_name = std::string(credential->has_value()
                                ? kDefaultCredentialName
                                : kNoCredentialName);
    return grpc::Status::OK;
  }
  if (options.named_credentials != nullptr) {
    auto it = options.named_credentials->find(name);
    if (it != options.named_credentials->end()) {
      *credential = it->second;
      call->credential_name = std::string(name);
      return grpc::Status::OK;
    }
  }
  return UnknownCredential("the gateway holds no credential of this name");
}

}  // namespace

absl::Time CallDeadline(const v1::Request& request, absl::Time rpc_deadline,
                        absl::Time now, const PrepareOptions& options) {
  if (request.has_timeout()) {
    return std::min(rpc_deadline, now + std::min(ToDuration(request.timeout()),
                                                 options.max_timeout));
  }
  if (rpc_deadline != absl::InfiniteFuture()) return rpc_deadline;
  return now + options.default_timeout;
}

grpc::Status Prepare(const v1::Request& request, const PrepareOptions& options,
                     absl::Time rpc_deadline, absl::Time now,
                     PreparedCall* call,
                     absl::string_view fallback_credential) {
  if (std::optional<FieldViolation> violation = ValidateRequest(request)) {
    return InvalidArgument(*violation);
  }
  absl::StatusOr<std::string> method = RequestMethod(request);
  if (!method.ok()) return MapTransportError(method.status(), 0);
  call->graphql = request.api() == v1::API_GRAPHQL;
  call->id = request.id();
  call->max_attempts = request.max_attempts();
  call->path = call->graphql ? "/api/graphql" : request.path();
  call->route = call->graphql ? "graphql" : RouteTemplate(request.path());

  engine::HttpRequest& http = call->http;
  http.method = *std::move(method);
  http.url = call->graphql
                 ? BuildGraphqlUrl(options.base_url)
                 : BuildRestUrl(options.base_url, request.path(),
                                request.query());
  http.deadline = CallDeadline(request, rpc_deadline, now, options);

  // The credential, resolved once: its header line, limiter key and names.
  std::optional<Credential> credential;
  if (grpc::Status refused = ResolveCredential(request, options,
                                               fallback_credential, call,
                                               &credential);
      !refused.ok()) {
    return refused;
  }
  call->credential_key =
      credential.has_value() ? CredentialKey(*credential) : "anonymous";
  http.header_lines.reserve(request.headers_size() + 3);
  if (credential.has_value()) {
    http.header_lines.push_back(AuthHeaderLine(*credential));
  }
  AddHeaderLines(request, &http.header_lines);
  switch (request.body_case()) {
    case v1::Request::kText:
      http.body = request.text();
      break;
    case v1::Request::kContent:
      http.body = request.content();
      break;
    case v1::Request::BODY_NOT_SET:
      break;
  }
  return grpc::Status::OK;
}

}  // namespace gitlab_gateway::gitlab
