#include "client/cli/json_pretty.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"

namespace gitlab_gateway::cli {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void NewLine(int depth, std::string* out) {
  out->push_back('\n');
  out->append(static_cast<size_t>(depth) * 2, ' ');
}

// Index of the first non-space byte at or after `i`.
size_t SkipSpace(absl::string_view text, size_t i) {
  while (i < text.size() && IsSpace(text[i])) ++i;
  return i;
}

}  // namespace

std::optional<std::string> PrettyJson(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || (text.front() != '{' && text.front() != '[')) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  std::vector<char> open;  // expected closers
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t start = i++;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\') ++i;
        if (i < text.size() && static_cast<unsigned char>(text[i]) < 0x20) {
          return std::nullopt;  // raw control byte inside a string
        }
        ++i;
      }
      if (i >= text.size()) return std::nullopt;  // unterminated string
      out.append(text.data() + start, i - start + 1);
      continue;
    }
    if (IsSpace(c)) continue;
    if (open.empty() && !out.empty()) return std::nullopt;  // trailing junk
    switch (c) {
      case '{':
      case '[': {
        char closer = c == '{' ? '}' : ']';
        size_t next = SkipSpace(text, i + 1);
        if (next < text.size() && text[next] == closer) {  // {} and []
          out.push_back(c);
          out.push_back(closer);
          i = next;
          if (open.empty() && SkipSpace(text, i + 1) != text.size()) {
            return std::nullopt;
          }
          break;
        }
        out.push_back(c);
        open.push_back(closer);
        NewLine(static_cast<int>(open.size()), &out);
        break;
      }
      case '}':
      case ']':
        if (open.empty() || open.back() != c) return std::nullopt;
        open.pop_back();
        NewLine(static_cast<int>(open.size()), &out);
        out.push_back(c);
        break;
      case ',':
        if (open.empty()) return std::nullopt;
        out.push_back(',');
        NewLine(static_cast<int>(open.size()), &out);
        break;
      case ':':
        out.append(": ");
        break;
      default:
        out.push_back(c);
    }
  }
  if (!open.empty()) return std::nullopt;
  return out;
}

std::optional<std::vector<std::string>> JsonArrayItems(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || text.front() != '[' || !PrettyJson(text)) {
    return std::nullopt;
  }
  std::vector<std::string> items;
  std::string item;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {  // well formed: PrettyJson checked it
      size_t start = i++;
      while (text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      item.append(text.data() + start, i - start + 1);
      continue;
    }
    if (IsSpace(c)) continue;
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    bool boundary = (depth == 1 && c == ',') || (depth == 0 && c == ']');
    if (boundary) {
      if (!item.empty()) items.push_back(std::move(item));
      item.clear();
    } else if (!(depth == 1 && c == '[' && i == 0)) {
      item.push_back(c);
    }
  }
  return items;
}

}  // namespace gitlab_gateway::cli
