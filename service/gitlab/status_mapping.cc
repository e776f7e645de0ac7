#include "service/gitlab/status_mapping.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_join.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/rpc/error_details.pb.h"
#include "service/gitlab/error_body.h"
#include "service/gitlab/json_scan.h"
#include "service/gitlab/response_body.h"
#include "service/gitlab/status_details.h"

namespace gitlab_gateway::gitlab {
namespace {

using Code = grpc::StatusCode;

// "GitLab 404: <message>" keeps at most this much of the message; the whole
// (up to kMaxErrorMessageBytes) is in ErrorInfo and GitLabError.
constexpr size_t kMaxStatusMessageBytes = 512;
constexpr size_t kMaxLocationBytes = 1024;
// ErrorInfo metadata values are meant to be short; the whole message is in
// GitLabError.message.
constexpr size_t kMaxMetadataBytes = 256;
// GraphQL errors listed in the BadRequest: at most 20, and at most this many
// bytes of fields and messages (plus 8 per violation for tags and lengths),
// so that the details stay within kMaxErrorTrailerBytes.
constexpr int kMaxGraphqlViolations = 20;
constexpr size_t kMaxGraphqlViolationBytes = 2 * 1024;

// Which extra detail a row adds besides ErrorInfo and GitLabError.
enum class Extra { kNone, kBadRequest, kResourceInfo, kRetryInfo, kLocation };

struct AnswerRow {
  int first, last;  // HTTP status range, inclusive
  Code code;
  absl::string_view reason;
  absl::string_view phrase;  // shown when the body says nothing
  Extra extra;
};

// First matching row wins: exact statuses, then the class fallbacks.
constexpr std::array<AnswerRow, 23> kAnswerRows = {{
    {400, 400, Code::INVALID_ARGUMENT, "GITLAB_BAD_REQUEST", "Bad Request",
     Extra::kBadRequest},
    {401, 401, Code::UNAUTHENTICATED, "GITLAB_UNAUTHENTICATED", "Unauthorized",
     Extra::kNone},
    {403, 403, Code::PERMISSION_DENIED, "GITLAB_PERMISSION_DENIED", "Forbidden",
     Extra::kNone},
    {404, 404, Code::NOT_FOUND, "GITLAB_NOT_FOUND", "Not Found",
     Extra::kResourceInfo},
    {405, 405, Code::UNIMPLEMENTED, "GITLAB_METHOD_NOT_ALLOWED",
     "Method Not Allowed", Extra::kNone},
    {409, 409, Code::ABORTED, "GITLAB_CONFLICT", "Conflict", Extra::kNone},
    {412, 412, Code::FAILED_PRECONDITION, "GITLAB_PRECONDITION_FAILED",
     "Precondition Failed", Extra::kNone},
    {413, 413, Code::INVALID_ARGUMENT, "GITLAB_PAYLOAD_TOO_LARGE",
     "Payload Too Large", Extra::kNone},
    {414, 414, Code::INVALID_ARGUMENT, "GITLAB_URI_TOO_LONG", "URI Too Long",
     Extra::kNone},
    {422, 422, Code::INVALID_ARGUMENT, "GITLAB_UNPROCESSABLE",
     "Unprocessable Entity", Extra::kBadRequest},
    {429, 429, Code::RESOURCE_EXHAUSTED, "GITLAB_RATE_LIMITED",
     "Too Many Requests", Extra::kRetryInfo},
    {499, 499, Code::CANCELLED, "GITLAB_CLIENT_CLOSED_REQUEST",
     "Client Closed Request", Extra::kNone},
    {500, 500, Code::INTERNAL, "GITLAB_INTERNAL_ERROR", "Internal Server Error",
     Extra::kNone},
    {501, 501, Code::UNIMPLEMENTED, "GITLAB_NOT_IMPLEMENTED", "Not Implemented",
     Extra::kNone},
    {502, 502, Code::UNAVAILABLE, "GITLAB_BAD_GATEWAY", "Bad Gateway",
     Extra::kNone},
    {503, 503, Code::UNAVAILABLE, "GITLAB_UNAVAILABLE", "Service Unavailable",
     Extra::kNone},
    {504, 504, Code::DEADLINE_EXCEEDED, "GITLAB_GATEWAY_TIMEOUT",
     "Gateway Timeout", Extra::kNone},
    // A renamed project answers 301; redirects are not followed.
    {300, 399, Code::FAILED_PRECONDITION, "GITLAB_REDIRECT", "Redirect",
     Extra::kLocation},
    {400, 499, Code::FAILED_PRECONDITION, "GITLAB_CLIENT_ERROR", "Client Error",
     Extra::kNone},
    {500, 599, Code::UNAVAILABLE, "GITLAB_SERVER_ERROR", "Server Error",
     Extra::kNone},
    // Not an HTTP final status at all (1xx, 2xx are handled before).
    {100, 199, Code::UNKNOWN, "GITLAB_UNEXPECTED_STATUS", "Unexpected Status",
     Extra::kNone},
    {0, 99, Code::UNKNOWN, "GITLAB_UNEXPECTED_STATUS", "Unexpected Status",
     Extra::kNone},
    {600, 2147483647, Code::UNKNOWN, "GITLAB_UNEXPECTED_STATUS",
     "Unexpected Status", Extra::kNone},
}};

struct TransportRow {
  Code code;
  absl::string_view reason;
};

constexpr std::array<TransportRow, 4> kTransportRows = {{
    {Code::UNAVAILABLE, "UPSTREAM_UNAVAILABLE"},
    {Code::DEADLINE_EXCEEDED, "UPSTREAM_TIMEOUT"},
    {Code::RESOURCE_EXHAUSTED, "GATEWAY_OVERLOADED"},
    {Code::CANCELLED, "CANCELLED"},
}};
constexpr absl::string_view kDefaultTransportReason = "INTERNAL_ERROR";

const AnswerRow& RowFor(int http_status) {
  for (const AnswerRow& row : kAnswerRows) {
    if (http_status >= row.first && http_status <= row.last) return row;
  }
  return kAnswerRows.back();  // negative statuses
}

// "404 Project Not Found" reads "Project Not Found" after "GitLab 404: ".
absl::string_view WithoutCode(absl::string_view message, int http_status) {
  const std::string prefix = absl::StrCat(http_status, " ");
  if (absl::StartsWith(message, prefix) && message.size() > prefix.size()) {
    message.remove_prefix(prefix.size());
  }
  return message;
}

}  // namespace

bool IsSuccess(int http_status) {
  return (http_status >= 200 && http_status <= 299) || http_status == 304;
}

grpc::Status MapGitLabAnswer(absl::string_view domain,
                             const UpstreamAnswer& answer) {
  if (IsSuccess(answer.status_code)) return grpc::Status::OK;
  const AnswerRow& row = RowFor(answer.status_code);
  const ErrorBody body = ParseErrorBody(answer.body, answer.content_type);
  const std::string shown = Ellipsize(
      body.message.empty() ? row.phrase
                           : WithoutCode(body.message, answer.status_code),
      kMaxStatusMessageBytes);
  StatusBuilder status(
      row.code, absl::StrCat("GitLab ", answer.status_code, ": ", shown));

  auto info = MakeErrorInfo(row.reason, domain, answer.attempts);
  auto& metadata = *info.mutable_metadata();
  metadata["httpStatus"] = absl::StrCat(answer.status_code);
  metadata["gitlabMessage"] = Ellipsize(body.message, kMaxMetadataBytes);
  if (!body.error_code.empty()) {
    metadata["gitlabError"] = Ellipsize(body.error_code, kMaxMetadataBytes);
  }
  if (row.extra == Extra::kLocation) {
    if (auto location = FindHeader(answer.headers, "location")) {
      metadata["location"] =
          Ellipsize(absl::StripAsciiWhitespace(*location), kMaxLocationBytes);
    }
  }
  status.Add(info);
  switch (row.extra) {
    case Extra::kBadRequest:
      status.Add(MakeBadRequest(body, shown));
      break;
    case Extra::kResourceInfo:
      status.Add(MakeResourceInfo(answer.path, shown));
      break;
    case Extra::kRetryInfo:
      if (auto delay = RetryDelay(answer.headers, answer.now)) {
        status.Add(MakeRetryInfo(*delay));
      }
      break;
    case Extra::kNone:
    case Extra::kLocation:
      break;
  }
  AddGitLabError(answer, body.message, &status);
  return status.Build();
}

grpc::Status MapTransportError(const absl::Status& status, int attempts) {
  if (status.ok()) {
    return StatusBuilder(Code::INTERNAL,
                         "transport failed without an error status")
        .Add(MakeErrorInfo(kDefaultTransportReason, kGatewayDomain, attempts))
        .Build();
  }
  const int raw = static_cast<int>(status.code());
  const Code code =
      raw > 0 && raw <= 16 ? static_cast<Code>(raw) : Code::UNKNOWN;
  std::string reason;
  if (auto payload = status.GetPayload(kReasonPayloadUrl)) {
    reason =
        ToValidUtf8(absl::StripAsciiWhitespace(std::string(*payload)), 128);
  }
  if (reason.empty()) {
    reason = std::string(kDefaultTransportReason);
    for (const TransportRow& row : kTransportRows) {
      if (row.code == code) reason = std::string(row.reason);
    }
  }
  const std::string message =
      status.message().empty() ? reason : ToValidUtf8(status.message());
  return StatusBuilder(code, message)
      .Add(MakeErrorInfo(reason, kGatewayDomain, attempts))
      .Build();
}

grpc::Status InvalidArgument(const FieldViolation& violation) {
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field(violation.field);
  v->set_description(violation.description);
  auto info = MakeErrorInfo(
      violation.reason.empty() ? "INVALID_ARGUMENT" : violation.reason,
      kGatewayDomain, 0);
  (*info.mutable_metadata())["field"] = violation.field;
  return StatusBuilder(
             Code::INVALID_ARGUMENT,
             absl::StrCat(violation.field, ": ", violation.description))
      .Add(bad)
      .Add(info)
      .Build();
}

grpc::Status GatewayError(grpc::StatusCode code, absl::string_view reason,
                          absl::string_view message) {
  if (code == Code::OK) return grpc::Status::OK;
  return StatusBuilder(code, std::string(message))
      .Add(MakeErrorInfo(reason, kGatewayDomain, 0))
      .Build();
}

grpc::Status MapGraphqlErrors(absl::string_view domain,
                              const UpstreamAnswer& answer) {
  // Only the top-level "errors" member is parsed, and only up to
  // kMaxParsedErrorBodyBytes: a huge answer costs one scan, never a parse
  // into a tree many times its size.
  std::optional<absl::string_view> text =
      TopLevelMember(answer.body, "errors");
  if (!text.has_value() || text->empty() || text->front() != '[') {
    return grpc::Status::OK;
  }
  google::protobuf::Value errors;
  if (text->size() > kMaxParsedErrorBodyBytes) {
    // Too long to list; still an error, and one GitLab reported.
    google::protobuf::Value* error = errors.mutable_list_value()->add_values();
    (*error->mutable_struct_value()->mutable_fields())["message"]
        .set_string_value(absl::StrCat(
            "GitLab answered ", text->size(),
            " bytes of GraphQL errors (more than the gateway parses)"));
  } else if (!google::protobuf::util::JsonStringToMessage(
                  google::protobuf::StringPiece(text->data(), text->size()),
                  &errors)
                  .ok() ||
             errors.kind_case() != google::protobuf::Value::kListValue ||
             errors.list_value().values_size() == 0) {
    return grpc::Status::OK;
  }
  google::rpc::BadRequest bad;
  std::vector<std::string> messages;
  size_t bytes = 0;
  for (const google::protobuf::Value& error : errors.list_value().values()) {
    if (bad.field_violations_size() >= kMaxGraphqlViolations) break;
    std::string message = "GraphQL error";
    std::string field = "query";
    if (error.kind_case() == google::protobuf::Value::kStructValue) {
      const auto& e = error.struct_value().fields();
      auto m = e.find("message");
      if (m != e.end() &&
          m->second.kind_case() == google::protobuf::Value::kStringValue) {
        message = m->second.string_value();
      }
      auto path = e.find("path");
      if (path != e.end() &&
          path->second.kind_case() == google::protobuf::Value::kListValue) {
        for (const auto& part : path->second.list_value().values()) {
          absl::StrAppend(&field, ".",
                          part.kind_case() == google::protobuf::Value::kStringValue
                              ? part.string_value()
                              : absl::StrCat(part.number_value()));
        }
      }
    }
    message = Ellipsize(ToValidUtf8(message), kMaxMetadataBytes);
    field = Ellipsize(ToValidUtf8(field), kMaxMetadataBytes);
    bytes += field.size() + message.size() + 8;
    if (!messages.empty() && bytes > kMaxGraphqlViolationBytes) break;
    auto* violation = bad.add_field_violations();
    violation->set_field(std::move(field));
    violation->set_description(message);
    messages.push_back(std::move(message));
  }
  const std::string joined =
      Ellipsize(absl::StrJoin(messages, "; "), kMaxStatusMessageBytes);
  StatusBuilder status(Code::INVALID_ARGUMENT,
                       absl::StrCat("GitLab GraphQL: ", joined));
  auto info = MakeErrorInfo("GRAPHQL_ERROR", domain, answer.attempts);
  (*info.mutable_metadata())["httpStatus"] = absl::StrCat(answer.status_code);
  (*info.mutable_metadata())["gitlabMessage"] =
      Ellipsize(joined, kMaxMetadataBytes);
  status.Add(info);
  status.Add(bad);
  AddGitLabError(answer, joined, &status);
  return status.Build();
}

grpc::Status RetryLater(absl::string_view reason, absl::string_view message,
                        absl::Duration delay) {
  return StatusBuilder(Code::RESOURCE_EXHAUSTED, std::string(message))
      .Add(MakeErrorInfo(reason, kGatewayDomain, 0))
      .Add(MakeRetryInfo(delay))
      .Build();
}

google::rpc::Status ToRpcStatus(const grpc::Status& status) {
  google::rpc::Status rpc;
  if (!status.error_details().empty() &&
      rpc.ParseFromString(status.error_details())) {
    if (rpc.code() == 0) rpc.set_code(static_cast<int>(status.error_code()));
    return rpc;
  }
  rpc.Clear();
  rpc.set_code(static_cast<int>(status.error_code()));
  rpc.set_message(status.error_message());
  return rpc;
}

}  // namespace gitlab_gateway::gitlab
