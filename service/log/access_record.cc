#include "service/log/access_record.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/gitlab/response_body.h"
#include "service/gitlab/status_details.h"
#include "service/metrics/metrics.h"

namespace gitlab_gateway::log {
namespace {

// `"name":"value"` with `value` escaped, repaired and capped.
void AppendString(std::string* out, absl::string_view name,
                  absl::string_view value) {
  std::string repaired;
  if (!gitlab::IsValidUtf8(value)) {
    repaired = gitlab::ToValidUtf8(value);
    value = repaired;
  }
  std::string cut;
  if (value.size() > kMaxFieldBytes) {
    cut = gitlab::Ellipsize(value, kMaxFieldBytes);
    value = cut;
  }
  absl::StrAppend(out, "\"", name, "\":\"");
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          absl::StrAppendFormat(out, "\\u%04x", u);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string Millis(absl::Duration d) {
  return absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d));
}

}  // namespace

std::string ErrorReason(absl::string_view error_details) {
  if (error_details.empty()) return "";
  google::rpc::Status status;
  if (!status.ParseFromArray(error_details.data(),
                             static_cast<int>(error_details.size()))) {
    return "";
  }
  for (const google::protobuf::Any& any : status.details()) {
    google::rpc::ErrorInfo info;
    if (any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info)) {
      return info.reason();
    }
  }
  return "";
}

std::string FormatAccessRecord(const AccessRecord& record) {
  std::string out;
  out.reserve(512);
  out.push_back('{');
  AppendString(&out, "time",
               absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", record.time,
                                absl::UTCTimeZone()));
  out.push_back(',');
  AppendString(&out, "caller", record.caller);
  out.push_back(',');
  AppendString(&out, "rpc", record.rpc);
  out.push_back(',');
  AppendString(&out, "id", record.id);
  out.push_back(',');
  AppendString(&out, "method", record.method);
  out.push_back(',');
  AppendString(&out, "route", record.route);
  out.push_back(',');
  AppendString(&out, "credential", record.credential_class);
  out.push_back(',');
  AppendString(&out, "credential_name", record.credential_name);
  absl::StrAppend(&out, ",\"gitlab_status\":", record.http_status, ",");
  AppendString(&out, "grpc_code", metrics::GrpcCodeName(record.grpc_code));
  out.push_back(',');
  AppendString(&out, "reason", ErrorReason(record.error_details));
  absl::StrAppend(&out, ",\"attempts\":", record.attempts,
                  ",\"upstream_ms\":", Millis(record.upstream_latency),
                  ",\"total_ms\":", Millis(record.total_latency), ",");
  AppendString(&out, "gitlab_request_id", record.gitlab_request_id);
  out.push_back(',');
  AppendString(&out, "request_id", record.request_id);
  out.append("}\n");
  return out;
}

}  // namespace gitlab_gateway::log
