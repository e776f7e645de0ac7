#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_HTTP_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_HTTP_H_

// HTTP/1.1 text helpers for FakeGitLab: request-head parsing and response-head
// formatting. Pure functions; any thread. Internal to tests/support.

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace gitlab_gateway::testing::fake_http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The parts of "METHOD SP request-target SP HTTP/1.x CRLF *(header CRLF)".
struct RequestHead {
  std::string method;
  std::string target;     // raw, as received
  std::string path;       // target before '?', not decoded
  std::string query;      // after the first '?', raw
  int minor_version = 1;  // HTTP/1.<minor_version>
  Headers headers;        // in order, names as received, values trimmed
};

// Parses a request head without its terminating empty line. nullopt when the
// request line or a header line is malformed (the fake answers 400).
std::optional<RequestHead> ParseRequestHead(absl::string_view head);

// First value of header `name` (ASCII case-insensitive).
std::optional<std::string> FindHeader(const Headers& headers,
                                      absl::string_view name);

// Whether comma-separated `value` holds `token` (case-insensitive), as in
// "Connection: keep-alive, Upgrade".
bool HasToken(absl::string_view value, absl::string_view token);

// Whether the connection may serve another request after this one: HTTP/1.1
// unless "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
bool WantsKeepAlive(const RequestHead& head);

// "OK", "Not Found", ...; "Unknown" for codes without a phrase here.
absl::string_view ReasonPhrase(int status);

// "HTTP/1.1 <status> <reason>\r\n", `headers` as given, then
// "Content-Length: <content_length>" when set, "Connection: close" when
// `connection_close`, then the empty line.
std::string FormatResponseHead(int status, const Headers& headers,
                               std::optional<size_t> content_length,
                               bool connection_close);

}  // namespace gitlab_gateway::testing::fake_http

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_HTTP_H_
