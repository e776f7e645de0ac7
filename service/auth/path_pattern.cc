#include "service/auth/path_pattern.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace gitlab_gateway::auth {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `raw`; nullopt on an invalid escape or %00.
std::optional<std::string> Decode(absl::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out.push_back(raw[i]);
      continue;
    }
    if (i + 2 >= raw.size()) return std::nullopt;
    const int hi = HexValue(raw[i + 1]);
    const int lo = HexValue(raw[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Whether a decoded segment holds a "." or ".." part between any of the
// separators GitLab or a proxy in front of it may honour.
bool HasDotPart(absl::string_view decoded) {
  for (absl::string_view part :
       absl::StrSplit(decoded, absl::ByAnyChar("/\\"))) {
    if (part == "." || part == "..") return true;
  }
  return false;
}

// Shared by paths and patterns: raw "/a/b%2Fc/" -> {"a", "b/c"}.
std::optional<std::vector<std::string>> Split(absl::string_view path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> out;
  if (path.empty()) return out;  // "/" itself
  for (absl::string_view raw : absl::StrSplit(path, '/')) {
    if (raw.empty()) return std::nullopt;
    std::optional<std::string> decoded = Decode(raw);
    if (!decoded.has_value() || decoded->empty() || HasDotPart(*decoded)) {
      return std::nullopt;
    }
    out.push_back(*std::move(decoded));
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> DecodedSegments(
    absl::string_view path) {
  return Split(path);
}

absl::StatusOr<PathPattern> PathPattern::Compile(absl::string_view pattern) {
  std::optional<std::vector<std::string>> parts = Split(pattern);
  if (!parts.has_value()) {
    return absl::InvalidArgumentError(
        "must start with \"/\" and have no empty, \".\" or \"..\" segments "
        "or invalid escapes");
  }
  if (parts->size() > kMaxSegments) {
    return absl::InvalidArgumentError(
        absl::StrCat("must have at most ", kMaxSegments, " segments"));
  }
  PathPattern out;
  for (size_t i = 0; i < parts->size(); ++i) {
    std::string& part = (*parts)[i];
    Segment segment{Segment::Kind::kLiteral, ""};
    if (part == "*") {
      if (i + 1 != parts->size()) {
        return absl::InvalidArgumentError("\"*\" may only be the last segment");
      }
      segment.kind = Segment::Kind::kRest;
    } else if (part.find('*') != std::string::npos) {
      return absl::InvalidArgumentError(
          "\"*\" must be a whole segment (the last one)");
    } else if (part[0] == ':') {
      segment.kind = Segment::Kind::kAny;
    } else {
      segment.literal = std::move(part);
    }
    out.segments_.push_back(std::move(segment));
  }
  return out;
}

bool PathPattern::Matches(const std::vector<std::string>& segments) const {
  size_t i = 0;
  for (const Segment& segment : segments_) {
    if (segment.kind == Segment::Kind::kRest) return true;
    if (i == segments.size()) return false;
    if (segment.kind == Segment::Kind::kLiteral &&
        segment.literal != segments[i]) {
      return false;
    }
    ++i;
  }
  return i == segments.size();
}

}  // namespace gitlab_gateway::auth
