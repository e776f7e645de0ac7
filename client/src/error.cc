#include "gitlab_gateway/client/error.h"

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gitlab_gateway::client {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// Body excerpt ToString shows, in bytes.
constexpr size_t kBodyExcerptBytes = 512;

int MetadataInt(const std::map<std::string, std::string>& metadata,
                const char* key) {
  int value = 0;
  auto it = metadata.find(key);
  if (it == metadata.end() || !absl::SimpleAtoi(it->second, &value)) return 0;
  return value;
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// Fills `out` from the details of a google.rpc.Status. The first detail of
// each kind wins (the gateway sends at most one of each).
void ReadDetails(const google::rpc::Status& rpc, DecodedError* out) {
  out->has_details = true;
  bool have_info = false;
  for (const google::protobuf::Any& any : rpc.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) {
      google::rpc::ErrorInfo info;
      if (have_info || !any.UnpackTo(&info)) continue;
      have_info = true;
      out->reason = info.reason();
      out->domain = info.domain();
      out->metadata.insert(info.metadata().begin(), info.metadata().end());
      out->http_status = MetadataInt(out->metadata, "httpStatus");
      out->attempts = MetadataInt(out->metadata, "attempts");
    } else if (any.Is<google::rpc::RetryInfo>()) {
      google::rpc::RetryInfo retry;
      if (any.UnpackTo(&retry) && !out->retry_delay) {
        out->retry_delay = FromProto(retry.retry_delay());
      }
    } else if (any.Is<google::rpc::BadRequest>()) {
      google::rpc::BadRequest bad;
      if (!any.UnpackTo(&bad)) continue;
      for (const auto& v : bad.field_violations()) {
        out->field_violations.push_back({v.field(), v.description()});
      }
    } else if (any.Is<google::rpc::ResourceInfo>()) {
      google::rpc::ResourceInfo resource;
      if (any.UnpackTo(&resource) && !out->resource) out->resource = resource;
    } else if (any.Is<v1::GitLabError>()) {
      v1::GitLabError gitlab;
      if (any.UnpackTo(&gitlab) && !out->gitlab) out->gitlab = gitlab;
    }
  }
}

}  // namespace

DecodedError DecodeError(const google::rpc::Status& status) {
  DecodedError out;
  out.code = static_cast<grpc::StatusCode>(status.code());
  out.message = status.message();
  ReadDetails(status, &out);
  return out;
}

DecodedError DecodeError(const grpc::Status& status) {
  DecodedError out;
  out.code = status.error_code();
  out.message = status.error_message();
  google::rpc::Status rpc;
  if (!status.error_details().empty() &&
      rpc.ParseFromString(status.error_details())) {
    ReadDetails(rpc, &out);
  }
  return out;
}

DecodedError DecodeError(const absl::Status& status) {
  return DecodeError(ToGrpcStatus(status));
}

absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  if (!status.error_details().empty()) {
    out.SetPayload(kRpcStatusPayloadUrl, absl::Cord(status.error_details()));
  }
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string details;
  if (absl::optional<absl::Cord> payload =
          status.GetPayload(kRpcStatusPayloadUrl)) {
    details = std::string(*payload);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()), std::move(details));
}

std::string CodeName(grpc::StatusCode code) {
  // grpc and absl share the numbering; absl knows the names.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string DecodedError::ToString() const {
  std::string out = absl::StrCat(CodeName(code), ": ", message, "\n");
  if (!reason.empty()) {
    absl::StrAppend(&out, "  reason: ", reason);
    if (!domain.empty()) absl::StrAppend(&out, " (", domain, ")");
    out += "\n";
  }
  if (http_status != 0) {
    absl::StrAppend(&out, "  http status: ", http_status, "\n");
  }
  if (attempts != 0) absl::StrAppend(&out, "  attempts: ", attempts, "\n");
  for (const auto& [key, value] : metadata) {
    if (key == "httpStatus" || key == "attempts") continue;
    absl::StrAppend(&out, "  ", key, ": ", value, "\n");
  }
  if (retry_delay) {
    absl::StrAppend(&out, "  retry after: ", absl::FormatDuration(*retry_delay),
                    "\n");
  }
  for (const FieldViolation& v : field_violations) {
    absl::StrAppend(&out, "  field ", v.field, ": ", v.description, "\n");
  }
  if (resource) {
    absl::StrAppend(&out, "  resource: ", resource->resource_type(), " ",
                    resource->resource_name(), "\n");
  }
  if (gitlab && !gitlab->body().empty()) {
    absl::string_view body = gitlab->body();
    bool cut = body.size() > kBodyExcerptBytes;
    absl::StrAppend(&out, "  gitlab body: ", body.substr(0, kBodyExcerptBytes),
                    cut ? "..." : "", "\n");
  }
  return out;
}

}  // namespace gitlab_gateway::client
