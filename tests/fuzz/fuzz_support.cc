#include "tests/fuzz/fuzz_support.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "google/rpc/error_details.pb.h"

namespace gitlab_gateway::fuzz {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Unpacks `any` as T; false when it is a T that does not parse.
template <typename T>
bool UnpacksAs(const google::protobuf::Any& any, int* count) {
  if (!any.Is<T>()) return true;
  ++*count;
  T detail;
  return any.UnpackTo(&detail);
}

}  // namespace

void Fail(absl::string_view what, absl::string_view detail) {
  std::fprintf(stderr, "FUZZ INVARIANT FAILED: %.*s\n  detail: %s\n",
               static_cast<int>(what.size()), what.data(),
               absl::CHexEscape(detail.substr(0, 2048)).c_str());
  std::abort();
}

std::pair<absl::string_view, absl::string_view> SplitKey(
    absl::string_view line) {
  const size_t space = line.find(' ');
  if (space == absl::string_view::npos) return {line, ""};
  return {line.substr(0, space), line.substr(space + 1)};
}

std::string Unescape(absl::string_view s) {
  std::string out;
  if (absl::CUnescape(s, &out)) return out;
  return std::string(s);
}

std::pair<std::string, std::string> SplitHeader(absl::string_view line) {
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return {std::string(line), ""};
  absl::string_view value = line.substr(colon + 1);
  if (absl::StartsWith(value, " ")) value.remove_prefix(1);
  return {std::string(line.substr(0, colon)), std::string(value)};
}

bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xe0) == 0xc0) {
      n = 1, cp = b & 0x1f;
    } else if ((b & 0xf0) == 0xe0) {
      n = 2, cp = b & 0x0f;
    } else if ((b & 0xf8) == 0xf0) {
      n = 3, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool HasControl(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

bool HasDotSegment(absl::string_view path) {
  std::string segment;
  auto dot = [&] { return segment == "." || segment == ".."; };
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%' && i + 2 < path.size() && Hex(path[i + 1]) >= 0 &&
        Hex(path[i + 2]) >= 0) {
      c = static_cast<char>(Hex(path[i + 1]) * 16 + Hex(path[i + 2]));
      i += 2;
    }
    if (c == '/' || c == '\\') {
      if (dot()) return true;
      segment.clear();
    } else {
      segment.push_back(c);
    }
  }
  return dot();
}

size_t TrailerBytes(const grpc::Status& status) {
  size_t bytes = 0;
  for (char c : status.error_message()) {
    const auto u = static_cast<unsigned char>(c);
    bytes += (u < 0x20 || u > 0x7e || u == '%') ? 3 : 1;
  }
  return bytes + (status.error_details().size() + 2) / 3 * 4;
}

google::rpc::Status CheckErrorDetails(const grpc::Status& status) {
  google::rpc::Status rpc;
  GG_FUZZ_CHECK(!status.ok(), status.error_message());
  GG_FUZZ_CHECK(rpc.ParseFromString(status.error_details()),
                status.error_details());
  GG_FUZZ_CHECK(rpc.code() == static_cast<int>(status.error_code()),
                status.error_message());
  GG_FUZZ_CHECK(rpc.message() == status.error_message(),
                status.error_message());
  GG_FUZZ_CHECK(IsUtf8(rpc.message()), rpc.message());
  int infos = 0, others = 0;
  for (const google::protobuf::Any& any : rpc.details()) {
    GG_FUZZ_CHECK(
        UnpacksAs<google::rpc::ErrorInfo>(any, &infos) &&
            UnpacksAs<google::rpc::BadRequest>(any, &others) &&
            UnpacksAs<google::rpc::ResourceInfo>(any, &others) &&
            UnpacksAs<google::rpc::RetryInfo>(any, &others) &&
            UnpacksAs<::gitlab::gateway::v1::GitLabError>(any, &others),
        any.type_url());
  }
  GG_FUZZ_CHECK(infos == 1, rpc.ShortDebugString());
  GG_FUZZ_CHECK(infos + others == rpc.details_size(), rpc.ShortDebugString());
  return rpc;
}

}  // namespace gitlab_gateway::fuzz
