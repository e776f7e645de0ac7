#include "tests/support/fake_gitlab_http.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace gitlab_gateway::testing::fake_http {
namespace {

// RFC 9110 tchar: the characters allowed in a method or header name.
bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) continue;
    if (absl::string_view("!#$%&'*+-.^_`|~").find(c) ==
        absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

struct StatusPhrase {
  int status;
  absl::string_view phrase;
};

constexpr StatusPhrase kPhrases[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {409, "Conflict"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {422, "Unprocessable Entity"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

bool ParseRequestLine(absl::string_view line, RequestHead* head) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || !IsToken(parts[0]) || parts[1].empty()) {
    return false;
  }
  if (parts[2] == "HTTP/1.1") {
    head->minor_version = 1;
  } else if (parts[2] == "HTTP/1.0") {
    head->minor_version = 0;
  } else {
    return false;
  }
  head->method = std::string(parts[0]);
  head->target = std::string(parts[1]);
  size_t question = parts[1].find('?');
  head->path = std::string(parts[1].substr(0, question));
  if (question != absl::string_view::npos) {
    head->query = std::string(parts[1].substr(question + 1));
  }
  return true;
}

}  // namespace

std::optional<RequestHead> ParseRequestHead(absl::string_view head) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  RequestHead parsed;
  if (lines.empty() || !ParseRequestLine(lines[0], &parsed)) {
    return std::nullopt;
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    size_t colon = line.find(':');
    // Obsolete line folding (a leading space) is refused, as RFC 9112 allows.
    if (colon == absl::string_view::npos || !IsToken(line.substr(0, colon))) {
      return std::nullopt;
    }
    parsed.headers.emplace_back(
        std::string(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return parsed;
}

std::optional<std::string> FindHeader(const Headers& headers,
                                      absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

bool HasToken(absl::string_view value, absl::string_view token) {
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(part), token)) {
      return true;
    }
  }
  return false;
}

bool WantsKeepAlive(const RequestHead& head) {
  std::optional<std::string> connection =
      FindHeader(head.headers, "Connection");
  if (head.minor_version >= 1) {
    return !(connection.has_value() && HasToken(*connection, "close"));
  }
  return connection.has_value() && HasToken(*connection, "keep-alive");
}

absl::string_view ReasonPhrase(int status) {
  for (const StatusPhrase& entry : kPhrases) {
    if (entry.status == status) return entry.phrase;
  }
  return "Unknown";
}

std::string FormatResponseHead(int status, const Headers& headers,
                               std::optional<size_t> content_length,
                               bool connection_close) {
  std::string out =
      absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n");
  for (const auto& [name, value] : headers) {
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  if (content_length.has_value()) {
    absl::StrAppend(&out, "Content-Length: ", *content_length, "\r\n");
  }
  if (connection_close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace gitlab_gateway::testing::fake_http
