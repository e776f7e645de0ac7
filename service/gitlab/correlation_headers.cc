#include "service/gitlab/correlation_headers.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// Header names compare without case, and '_' equals '-' (as the request
// validator's reserved names: Rack reads either spelling).
bool SameName(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = absl::ascii_tolower(static_cast<unsigned char>(a[i]));
    char y = absl::ascii_tolower(static_cast<unsigned char>(b[i]));
    if (x == '_') x = '-';
    if (y == '_') y = '-';
    if (x != y) return false;
  }
  return true;
}

const v1::Header* FindHeader(const v1::Request& request,
                             absl::string_view name) {
  for (const v1::Header& header : request.headers()) {
    if (SameName(header.name(), name)) return &header;
  }
  return nullptr;
}

size_t MaxBytes(absl::string_view name) {
  if (SameName(name, kTracestateHeader)) return kMaxTracestateBytes;
  if (SameName(name, kTraceparentHeader)) return kMaxTraceparentBytes;
  return kMaxRequestIdBytes;
}

}  // namespace

bool IsCorrelationHeader(absl::string_view name) {
  return SameName(name, kRequestIdHeader) ||
         SameName(name, kTraceparentHeader) ||
         SameName(name, kTracestateHeader);
}

std::optional<std::string> CorrelationValueProblem(absl::string_view name,
                                                   absl::string_view value) {
  if (value.empty()) return std::string("must not be empty");
  const size_t max = MaxBytes(name);
  if (value.size() > max) {
    return absl::StrCat("must be at most ", max, " bytes, got ", value.size());
  }
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      return std::string("must be printable ASCII (0x20-0x7E)");
    }
  }
  if (value.front() == ' ' || value.back() == ' ') {
    return std::string("must not begin or end with a space");
  }
  return std::nullopt;
}

std::string NewRequestId() {
  thread_local absl::BitGen gen;
  const uint64_t high = absl::Uniform<uint64_t>(gen);
  const uint64_t low = absl::Uniform<uint64_t>(gen);
  // Version 4 in the 13th hex digit, variant 10xx in the 17th.
  const uint64_t h = (high & ~uint64_t{0xf000}) | uint64_t{0x4000};
  const uint64_t l = (low & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", h >> 32,
                         (h >> 16) & 0xffff, h & 0xffff, l >> 48,
                         l & 0xffffffffffffULL);
}

void AddCorrelationHeaders(const v1::Request& request, const Correlation& rpc,
                           std::vector<std::string>* header_lines) {
  const std::pair<absl::string_view, const std::string*> values[] = {
      {kRequestIdHeader, &rpc.request_id},
      {kTraceparentHeader, &rpc.traceparent},
      {kTracestateHeader, &rpc.tracestate}};
  for (const auto& [name, value] : values) {
    if (value->empty() || FindHeader(request, name) != nullptr) continue;
    header_lines->push_back(absl::StrCat(name, ": ", *value));
  }
}

absl::string_view SentRequestId(const v1::Request& request,
                                absl::string_view rpc_request_id) {
  const v1::Header* own = FindHeader(request, kRequestIdHeader);
  return own != nullptr ? absl::string_view(own->value()) : rpc_request_id;
}

}  // namespace gitlab_gateway::gitlab
