#include "service/gitlab/response_body.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Index of the first non-ASCII byte at or after `i`.
size_t SkipAscii(absl::string_view s, size_t i) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  while (i + 8 <= s.size()) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & kHighBits) break;
    i += 8;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

// Length of the well-formed sequence starting at s[i], or 0 when the bytes
// there are not one (RFC 3629 table 3: the second byte's range rules out
// overlongs, surrogates and code points above U+10FFFF).
size_t SequenceAt(absl::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const size_t avail = s.size() - i;
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 overlong lead, or F5..FF
  }
  if (avail < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
  }
  return len;
}

// Media types that declare binary content even when the bytes happen to be
// valid UTF-8 (a tiny image or archive).
bool DeclaresBinary(absl::string_view content_type) {
  std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(
      content_type.substr(0, content_type.find(';'))));
  const size_t slash = type.find('/');
  if (slash == std::string::npos) return false;
  const absl::string_view top = absl::string_view(type).substr(0, slash);
  const absl::string_view sub = absl::string_view(type).substr(slash + 1);
  if (absl::EndsWith(sub, "+xml") || absl::EndsWith(sub, "+json")) {
    return false;  // image/svg+xml and friends are text
  }
  if (top == "image" || top == "audio" || top == "video" || top == "font") {
    return true;
  }
  static constexpr std::array<absl::string_view, 16> kBinaryApplication = {
      "zip",         "gzip", "x-gzip",          "x-tar",    "x-bzip2",
      "x-xz",        "zstd", "x-7z-compressed", "vnd.rar",  "x-rar-compressed",
      "pdf",         "wasm", "x-protobuf",      "protobuf", "java-archive",
      "x-msdownload"};
  return top == "application" &&
         std::find(kBinaryApplication.begin(), kBinaryApplication.end(), sub) !=
             kBinaryApplication.end();
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while ((i = SkipAscii(s, i)) < s.size()) {
    const size_t len = SequenceAt(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string ToValidUtf8(absl::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  size_t i = 0;
  while (i < s.size() && out.size() < max_bytes) {
    const size_t ascii_end = SkipAscii(s, i);
    if (ascii_end > i) {
      const size_t take = std::min(ascii_end - i, max_bytes - out.size());
      out.append(s.data() + i, take);
      i += take;
      continue;
    }
    const size_t len = SequenceAt(s, i);
    const absl::string_view piece = len ? s.substr(i, len) : kReplacement;
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece.data(), piece.size());
    i += len ? len : 1;
  }
  return out;
}

bool IsTextual(absl::string_view content_type, absl::string_view body) {
  return !DeclaresBinary(content_type) && IsValidUtf8(body);
}

void SetBody(absl::string_view content_type, std::string body,
             v1::Response* response) {
  if (body.empty()) return;
  if (IsTextual(content_type, body)) {
    response->set_text(std::move(body));
  } else {
    response->set_content(std::move(body));
  }
}

std::optional<int64_t> CountJsonArrayItems(absl::string_view body) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < body.size() && (body[i] == ' ' || body[i] == '\n' ||
                               body[i] == '\r' || body[i] == '\t')) {
      ++i;
    }
  };
  skip_space();
  if (i >= body.size() || body[i] != '[') return std::nullopt;
  ++i;
  skip_space();
  if (i < body.size() && body[i] == ']') return 0;
  int64_t items = 1;
  int depth = 0;
  bool in_string = false;
  for (; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        ++depth;
        break;
      case ']':
      case '}':
        if (depth == 0) return c == ']' ? std::optional<int64_t>(items)
                                        : std::nullopt;
        --depth;
        break;
      case ',':
        if (depth == 0) ++items;
        break;
      default:
        break;
    }
  }
  return std::nullopt;  // unterminated
}

}  // namespace gitlab_gateway::gitlab
