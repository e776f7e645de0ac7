#include "service/gitlab/json_scan.h"

#include <cstddef>

namespace gitlab_gateway::gitlab {
namespace {

constexpr size_t kEnd = absl::string_view::npos;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(absl::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

// `i` at an opening quote; the index after the closing one, or kEnd.
size_t SkipString(absl::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return kEnd;
}

// `i` at the first character of a value; the index after it, or kEnd.
size_t SkipValue(absl::string_view s, size_t i) {
  if (i >= s.size()) return kEnd;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    size_t depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = SkipString(s, i);
        if (i == kEnd) return kEnd;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return kEnd;
  }
  // A number, true, false or null: up to the next delimiter.
  const size_t start = i;
  while (i < s.size() && !IsSpace(s[i]) && s[i] != ',' && s[i] != '}' &&
         s[i] != ']') {
    ++i;
  }
  return i == start ? kEnd : i;
}

}  // namespace

std::optional<absl::string_view> TopLevelMember(absl::string_view json,
                                                absl::string_view key) {
  size_t i = SkipSpace(json, 0);
  if (i >= json.size() || json[i] != '{') return std::nullopt;
  i = SkipSpace(json, i + 1);
  while (i < json.size() && json[i] == '"') {
    const size_t key_end = SkipString(json, i);
    if (key_end == kEnd) return std::nullopt;
    const absl::string_view name = json.substr(i + 1, key_end - i - 2);
    i = SkipSpace(json, key_end);
    if (i >= json.size() || json[i] != ':') return std::nullopt;
    const size_t value = SkipSpace(json, i + 1);
    const size_t value_end = SkipValue(json, value);
    if (value_end == kEnd) return std::nullopt;
    if (name == key) return json.substr(value, value_end - value);
    i = SkipSpace(json, value_end);
    if (i >= json.size() || json[i] != ',') return std::nullopt;
    i = SkipSpace(json, i + 1);
  }
  return std::nullopt;
}

}  // namespace gitlab_gateway::gitlab
