#include "service/log/access_record.h"

#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/gitlab/response_body.h"
#include "service/gitlab/status_details.h"
#include "service/metrics/metrics.h"

namespace gitlab_gateway::log {
namespace {

// The JSON escape of `c`, or nullptr when it stands for itself.
const char* Escape(unsigned char c, char (&buf)[7]) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      if (c < 0x20 || c == 0x7f) {
        absl::SNPrintF(buf, sizeof(buf), "\\u%04x", c);
        return buf;
      }
      return nullptr;
  }
}

// `"name":"value"` with `value` escaped, repaired and capped. Runs of
// characters that need no escape are appended whole.
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
  size_t plain = 0;  // start of the run not yet appended
  char buf[7];
  for (size_t i = 0; i < value.size(); ++i) {
    const char* escaped = Escape(static_cast<unsigned char>(value[i]), buf);
    if (escaped == nullptr) continue;
    out->append(value.data() + plain, i - plain);
    out->append(escaped);
    plain = i + 1;
  }
  out->append(value.data() + plain, value.size() - plain);
  out->push_back('"');
}

// ".fff": `thousandths` (0..999) as three digits after a point.
void AppendThousandths(std::string* out, int64_t thousandths) {
  absl::StrAppend(out, ".", thousandths < 100 ? "0" : "",
                  thousandths < 10 ? "0" : "", thousandths);
}

// `d` in milliseconds with three decimals ("12.346"), rounded to the
// microsecond (halves up); absl::StrFormat("%.3f") gives the same for whole
// microseconds at a tenth of the cost.
void AppendMillis(std::string* out, absl::Duration d) {
  if (d < absl::ZeroDuration()) {
    out->push_back('-');
    d = -d;
  }
  const int64_t micros = absl::ToInt64Microseconds(d + absl::Nanoseconds(500));
  absl::StrAppend(out, micros / 1000);
  AppendThousandths(out, micros % 1000);
}

// "2026-11-30T03:04:05.678Z" (absl's "%Y-%m-%dT%H:%M:%E3SZ", UTC). The text
// up to the second is formatted once per second and thread: FormatTime is
// the costliest part of a line otherwise.
void AppendTime(std::string* out, absl::Time time) {
  struct Second {
    int64_t unix_seconds = std::numeric_limits<int64_t>::min();
    std::string text;
  };
  thread_local Second cached;
  const int64_t millis = absl::ToUnixMillis(time);
  int64_t second = millis / 1000;
  int64_t frac = millis % 1000;
  if (frac < 0) {  // before 1970: floor, as FormatTime does
    frac += 1000;
    --second;
  }
  if (second != cached.unix_seconds) {
    cached.text =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second),
                         absl::UTCTimeZone());
    cached.unix_seconds = second;
  }
  absl::StrAppend(out, "\"time\":\"", cached.text);
  AppendThousandths(out, frac);
  out->append("Z\"");
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
  AppendTime(&out, record.time);
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
  absl::StrAppend(&out, ",\"attempts\":", record.attempts, ",\"upstream_ms\":");
  AppendMillis(&out, record.upstream_latency);
  out.append(",\"total_ms\":");
  AppendMillis(&out, record.total_latency);
  out.push_back(',');
  AppendString(&out, "gitlab_request_id", record.gitlab_request_id);
  out.push_back(',');
  AppendString(&out, "request_id", record.request_id);
  out.append("}\n");
  return out;
}

}  // namespace gitlab_gateway::log
