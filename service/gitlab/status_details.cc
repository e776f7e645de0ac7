#include "service/gitlab/status_details.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/coded_stream.h"
#include "service/gitlab/response_body.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// Bounds on the parts of an error besides the GitLabError, so that they
// always leave room in kMaxErrorTrailerBytes.
constexpr size_t kMaxViolationBytes = 1024;
// What a violation costs on the wire besides its text: three tags and three
// lengths. Counted so that many tiny violations cannot outgrow the bound.
constexpr size_t kViolationOverheadBytes = 8;
constexpr size_t kMaxPathBytes = 512;

// grpc-message is percent-encoded outside printable ASCII (and '%' itself).
size_t PercentEncodedBytes(absl::string_view s) {
  size_t n = 0;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    n += (u < 0x20 || u > 0x7e || u == '%') ? 3 : 1;
  }
  return n;
}

// The quoted field of Grape's `400 (Bad request) "title" not given`, else
// "request" (the whole call).
std::string FieldOf(absl::string_view message) {
  const size_t open = message.find('"');
  const size_t close = message.find('"', open + 1);
  if (open == absl::string_view::npos || close == absl::string_view::npos ||
      close == open + 1) {
    return "request";
  }
  const absl::string_view name = message.substr(open + 1, close - open - 1);
  const bool identifier = std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '[' || c == ']' || c == '.';
  });
  return identifier ? std::string(name) : "request";
}

}  // namespace

StatusBuilder::StatusBuilder(grpc::StatusCode code, std::string message) {
  rpc_.set_code(static_cast<int>(code));
  rpc_.set_message(std::move(message));
}

StatusBuilder& StatusBuilder::Add(const google::protobuf::Message& detail) {
  rpc_.add_details()->PackFrom(detail);
  return *this;
}

google::protobuf::Any* StatusBuilder::last_detail() {
  return rpc_.mutable_details()->Mutable(rpc_.details_size() - 1);
}

size_t StatusBuilder::TrailerBytes() const {
  return PercentEncodedBytes(rpc_.message()) +
         (rpc_.ByteSizeLong() + 2) / 3 * 4;
}

grpc::Status StatusBuilder::Build() const {
  return grpc::Status(static_cast<grpc::StatusCode>(rpc_.code()),
                      rpc_.message(), rpc_.SerializeAsString());
}

std::string Ellipsize(absl::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return ToValidUtf8(s, max_bytes);
  if (max_bytes < 3) return ToValidUtf8(s, max_bytes);
  return ToValidUtf8(s, max_bytes - 3) + "...";
}

google::rpc::ErrorInfo MakeErrorInfo(absl::string_view reason,
                                     absl::string_view domain, int attempts) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(domain));
  if (attempts > 0) {
    (*info.mutable_metadata())["attempts"] = absl::StrCat(attempts);
  }
  return info;
}

google::rpc::BadRequest MakeBadRequest(const ErrorBody& body,
                                       absl::string_view description) {
  google::rpc::BadRequest bad;
  size_t bytes = 0;
  for (const auto& [field, text] : body.field_violations) {
    bytes += field.size() + text.size() + kViolationOverheadBytes;
    if (bad.field_violations_size() > 0 && bytes > kMaxViolationBytes) break;
    auto* violation = bad.add_field_violations();
    violation->set_field(Ellipsize(field, kMaxViolationBytes / 2));
    violation->set_description(Ellipsize(text, kMaxViolationBytes / 2));
  }
  if (bad.field_violations().empty()) {
    auto* violation = bad.add_field_violations();
    violation->set_field(FieldOf(body.message));
    violation->set_description(std::string(description));
  }
  return bad;
}

google::rpc::ResourceInfo MakeResourceInfo(absl::string_view path,
                                           absl::string_view description) {
  path = path.substr(0, path.find('?'));
  absl::string_view type = absl::StripPrefix(path, "/");
  type = type.substr(0, type.find('/'));
  google::rpc::ResourceInfo info;
  info.set_resource_type(Ellipsize(type, kMaxPathBytes));
  info.set_resource_name(Ellipsize(path, kMaxPathBytes));
  info.set_description(std::string(description));
  return info;
}

google::rpc::RetryInfo MakeRetryInfo(absl::Duration delay) {
  google::rpc::RetryInfo retry;
  const int64_t seconds = absl::ToInt64Seconds(delay);
  retry.mutable_retry_delay()->set_seconds(seconds);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(delay - absl::Seconds(seconds))));
  return retry;
}

void AddGitLabError(const UpstreamAnswer& answer, absl::string_view message,
                    StatusBuilder* status) {
  v1::GitLabError error;
  error.set_status_code(answer.status_code);
  error.set_message(std::string(message));
  status->Add(error);
  google::protobuf::Any* slot = status->last_detail();
  // Headers are kept in the order received while they fit. Their cost is
  // summed as they are added (one serialisation in all, whatever the answer
  // holds); 16 bytes cover the length varints that grow around them.
  const size_t base = status->TrailerBytes() + 16;
  const size_t room = base >= kMaxErrorTrailerBytes
                          ? 0
                          : (kMaxErrorTrailerBytes - base) / 4 * 3;
  size_t used = 0;
  for (const auto& [name, value] : answer.headers) {
    const size_t raw = name.size() + value.size();
    if (used + raw > room) break;  // cannot fit, however it is encoded
    v1::Header header;
    header.set_name(ToValidUtf8(name));
    header.set_value(ToValidUtf8(value));
    const size_t size = header.ByteSizeLong();
    const size_t cost =
        1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) + size;
    if (used + cost > room) break;
    used += cost;
    *error.add_headers() = std::move(header);
  }
  slot->PackFrom(error);
  // The estimate is conservative; this only guards it.
  while (status->TrailerBytes() > kMaxErrorTrailerBytes &&
         error.headers_size() > 0) {
    error.mutable_headers()->RemoveLast();
    slot->PackFrom(error);
  }
  // Each body byte costs 4/3 in base64; 16 bytes cover the field tag and the
  // length varints that grow around it.
  const size_t with_headers = status->TrailerBytes() + 16;
  if (answer.body.empty() || with_headers >= kMaxErrorTrailerBytes) return;
  const size_t body_room = std::min(
      (kMaxErrorTrailerBytes - with_headers) / 4 * 3, kMaxErrorBodyBytes);
  error.set_body(ToValidUtf8(answer.body, body_room));
  slot->PackFrom(error);
}

}  // namespace gitlab_gateway::gitlab
