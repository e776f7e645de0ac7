#include "service/gitlab/request_validator.h"

#include <array>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/gitlab/correlation_headers.h"
#include "service/gitlab/credentials.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool HasControl(absl::string_view s) {
  for (char c : s) {
    if (IsControl(c)) return true;
  }
  return false;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the separator starting at s[i]: 1 for "/" or "\", 3 for %2F or
// %5C in any case, 0 otherwise.
size_t SeparatorAt(absl::string_view s, size_t i) {
  if (s[i] == '/' || s[i] == '\\') return 1;
  if (s[i] == '%' && i + 2 < s.size()) {
    const absl::string_view esc = s.substr(i, 3);
    if (absl::EqualsIgnoreCase(esc, "%2f") ||
        absl::EqualsIgnoreCase(esc, "%5c")) {
      return 3;
    }
  }
  return 0;
}

// Decodes a segment whose percent escapes were already checked. Escapes
// never straddle separators: their two digits are hex, never "%", "/", "\".
std::string DecodeSegment(absl::string_view segment) {
  std::string out;
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size()) {
      out.push_back(static_cast<char>(HexValue(segment[i + 1]) * 16 +
                                      HexValue(segment[i + 2])));
      i += 2;
    } else {
      out.push_back(segment[i]);
    }
  }
  return out;
}

std::optional<std::string> DotSegmentProblem(absl::string_view path) {
  size_t start = 0;
  size_t i = 0;
  while (i <= path.size()) {
    const size_t sep = i < path.size() ? SeparatorAt(path, i) : 1;
    if (sep == 0) {
      ++i;
      continue;
    }
    const std::string segment = DecodeSegment(path.substr(start, i - start));
    if (segment == "..") return std::string("\"..\" segments are not allowed");
    if (segment == ".") return std::string("\".\" segments are not allowed");
    i += sep;
    start = i;
  }
  return std::nullopt;
}

// Header names the caller may not set, and why.
struct ReservedHeader {
  absl::string_view name;
  absl::string_view why;
};
constexpr absl::string_view kHopByHop =
    "is a hop-by-hop header the gateway manages";
constexpr absl::string_view kGatewayOwned = "is set by the gateway";
constexpr absl::string_view kCredentialHeader =
    "is not allowed: credentials go in the credentials field";
constexpr std::array<ReservedHeader, 15> kReservedHeaders = {{
    {"Host", kGatewayOwned},
    {"Content-Length", kGatewayOwned},
    {"Expect", kGatewayOwned},
    {"Transfer-Encoding", kHopByHop},
    {"Connection", kHopByHop},
    {"Keep-Alive", kHopByHop},
    {"Proxy-Connection", kHopByHop},
    {"TE", kHopByHop},
    {"Trailer", kHopByHop},
    {"Upgrade", kHopByHop},
    {"PRIVATE-TOKEN", kCredentialHeader},
    {"Authorization", kCredentialHeader},
    {"JOB-TOKEN", kCredentialHeader},
    {"Proxy-Authorization", kCredentialHeader},
    {"Sudo", "is not allowed: use the sudo field"},
}};

// RFC 7230 section 3.2.6 tchar.
bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
         absl::string_view::npos;
}

FieldViolation Violation(std::string field, std::string description,
                         absl::string_view reason) {
  return FieldViolation{std::move(field), std::move(description),
                        std::string(reason)};
}

// Whether `name` is `reserved` to a server: letters compare without case,
// and '_' equals '-' (Rack, and so GitLab, reads HTTP_PRIVATE_TOKEN from
// either spelling).
bool SameFieldName(absl::string_view name, absl::string_view reserved) {
  if (name.size() != reserved.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char a = absl::ascii_tolower(static_cast<unsigned char>(name[i]));
    char b = absl::ascii_tolower(static_cast<unsigned char>(reserved[i]));
    if (a == '_') a = '-';
    if (b == '_') b = '-';
    if (a != b) return false;
  }
  return true;
}

std::optional<FieldViolation> CheckQuery(const v1::Request& request) {
  if (request.query_size() > kMaxQueryParams) {
    return Violation(
        "query",
        absl::StrCat("at most ", kMaxQueryParams,
                     " parameters are allowed, got ", request.query_size()),
        "INVALID_QUERY");
  }
  size_t bytes = 0;
  for (int i = 0; i < request.query_size(); ++i) {
    const v1::Param& param = request.query(i);
    const std::string prefix = absl::StrCat("query[", i, "]");
    bytes += param.key().size() + param.value().size();
    if (bytes > kMaxQueryBytes) {
      return Violation("query",
                       absl::StrCat("keys and values may hold at most ",
                                    kMaxQueryBytes, " bytes in all"),
                       "INVALID_QUERY");
    }
    if (param.key().empty()) {
      return Violation(prefix + ".key", "must not be empty", "INVALID_QUERY");
    }
    if (absl::StrContains(param.key(), '\0')) {
      return Violation(prefix + ".key", "must not contain NUL",
                       "INVALID_QUERY");
    }
    if (absl::StrContains(param.value(), '\0')) {
      return Violation(prefix + ".value", "must not contain NUL",
                       "INVALID_QUERY");
    }
  }
  return std::nullopt;
}

std::optional<FieldViolation> CheckHeaders(const v1::Request& request) {
  if (request.headers_size() > kMaxHeaders) {
    return Violation(
        "headers",
        absl::StrCat("at most ", kMaxHeaders, " headers are allowed, got ",
                     request.headers_size()),
        "INVALID_HEADER");
  }
  size_t bytes = 0;
  for (int i = 0; i < request.headers_size(); ++i) {
    const v1::Header& header = request.headers(i);
    const std::string prefix = absl::StrCat("headers[", i, "]");
    const std::string& name = header.name();
    bytes += name.size() + header.value().size() + 4;  // ": " and CRLF
    if (bytes > kMaxHeaderBytes) {
      return Violation("headers",
                       absl::StrCat("names and values may hold at most ",
                                    kMaxHeaderBytes, " bytes in all"),
                       "INVALID_HEADER");
    }
    if (name.empty()) {
      return Violation(prefix + ".name", "must not be empty", "INVALID_HEADER");
    }
    for (char c : name) {
      if (!IsTokenChar(c)) {
        return Violation(prefix + ".name",
                         "must be an HTTP token (RFC 7230 tchar: letters, "
                         "digits and !#$%&'*+-.^_`|~)",
                         "INVALID_HEADER");
      }
    }
    for (const ReservedHeader& reserved : kReservedHeaders) {
      if (SameFieldName(name, reserved.name)) {
        return Violation(prefix + ".name",
                         absl::StrCat("\"", reserved.name, "\" ", reserved.why),
                         "INVALID_HEADER");
      }
    }
    // HTAB is the only control character a field value may hold.
    for (char c : header.value()) {
      if (IsControl(c) && c != '\t') {
        return Violation(prefix + ".value",
                         "must not contain CR, LF, NUL or other control "
                         "characters",
                         "INVALID_HEADER");
      }
    }
    // Correlation headers win over the RPC's metadata and reach the access
    // log: the same rules as the metadata (correlation_headers.h).
    if (IsCorrelationHeader(name)) {
      if (std::optional<std::string> problem =
              CorrelationValueProblem(name, header.value())) {
        return Violation(prefix + ".value",
                         absl::StrCat("\"", name, "\" ", *problem),
                         "INVALID_HEADER");
      }
    }
  }
  return std::nullopt;
}

std::optional<FieldViolation> CheckBody(const v1::Request& request,
                                        absl::string_view method) {
  if (method != "GET" && method != "HEAD") return std::nullopt;
  if (request.body_case() == v1::Request::kText && !request.text().empty()) {
    return Violation("text", absl::StrCat("must be empty for ", method),
                     "INVALID_BODY");
  }
  if (request.body_case() == v1::Request::kContent &&
      !request.content().empty()) {
    return Violation("content", absl::StrCat("must be empty for ", method),
                     "INVALID_BODY");
  }
  return std::nullopt;
}

std::optional<FieldViolation> CheckCredentials(const v1::Request& request) {
  const v1::Credentials& credentials = request.credentials();
  std::string field;
  absl::string_view token;
  switch (credentials.token_case()) {
    case v1::Credentials::kPrivateToken:
      field = "credentials.private_token";
      token = credentials.private_token();
      break;
    case v1::Credentials::kOauthToken:
      field = "credentials.oauth_token";
      token = credentials.oauth_token();
      break;
    case v1::Credentials::kJobToken:
      field = "credentials.job_token";
      token = credentials.job_token();
      break;
    case v1::Credentials::TOKEN_NOT_SET:
      return std::nullopt;
  }
  if (std::optional<std::string> problem = TokenProblem(token)) {
    return Violation(std::move(field), std::move(*problem),
                     "INVALID_CREDENTIALS");
  }
  return std::nullopt;
}

std::optional<FieldViolation> CheckSudo(const v1::Request& request) {
  if (request.sudo().size() > kMaxSudoBytes) {
    return Violation("sudo",
                     absl::StrCat("must be at most ", kMaxSudoBytes, " bytes"),
                     "INVALID_SUDO");
  }
  if (HasControl(request.sudo())) {
    return Violation("sudo", "must not contain control characters",
                     "INVALID_SUDO");
  }
  return std::nullopt;
}

std::optional<FieldViolation> CheckTimeout(const v1::Request& request) {
  if (!request.has_timeout()) return std::nullopt;
  const int64_t seconds = request.timeout().seconds();
  const int32_t nanos = request.timeout().nanos();
  if (seconds < 0 || nanos < 0) {
    return Violation("timeout", "must not be negative", "INVALID_TIMEOUT");
  }
  if (nanos >= 1'000'000'000) {
    return Violation("timeout", "nanos must be in [0, 999999999]",
                     "INVALID_TIMEOUT");
  }
  // google.protobuf.Duration's documented range: about 10,000 years.
  if (seconds > 315'576'000'000) {
    return Violation("timeout", "is out of range", "INVALID_TIMEOUT");
  }
  if (seconds == 0 && nanos == 0) {
    return Violation("timeout",
                     "must be positive when set (leave it unset "
                     "for no timeout of its own)",
                     "INVALID_TIMEOUT");
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> NormalizeMethod(absl::string_view method) {
  if (method.empty()) return std::string("GET");
  std::string upper = absl::AsciiStrToUpper(method);
  for (absl::string_view known :
       {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
    if (upper == known) return upper;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "unsupported method \"%s\" (want GET, HEAD, POST, PUT, PATCH or DELETE)",
      absl::CHexEscape(method.substr(0, 32))));
}

std::optional<std::string> PathProblem(absl::string_view path) {
  if (path.empty()) return std::string("must not be empty");
  if (path.size() > kMaxPathBytes) {
    return absl::StrCat("must be at most ", kMaxPathBytes, " bytes, got ",
                        path.size());
  }
  for (char c : path) {
    if (IsControl(c)) {
      return std::string(
          "must not contain CR, LF, NUL or other control characters");
    }
    if (c == ' ') return std::string("must not contain spaces (use %20)");
  }
  if (absl::StrContains(path, '?')) {
    return std::string("must not contain \"?\": put parameters in query");
  }
  if (absl::StrContains(path, '#')) {
    return std::string("must not contain \"#\"");
  }
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::StrContains(lower, "://") || absl::StrContains(lower, "/http:") ||
      absl::StrContains(lower, "/https:")) {
    return std::string("must not contain a URL scheme");
  }
  if (path[0] != '/') return std::string("must start with \"/\"");
  if (path.size() > 1 && (path[1] == '/' || path[1] == '\\')) {
    return std::string("must not start with \"//\" (a host)");
  }
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') continue;
    if (i + 2 >= path.size() || HexValue(path[i + 1]) < 0 ||
        HexValue(path[i + 2]) < 0) {
      return absl::StrCat("has an invalid percent escape at byte ", i,
                          " (want % and two hex digits)");
    }
    if (path[i + 1] == '0' && path[i + 2] == '0') {
      return std::string("must not contain %00 (NUL)");
    }
  }
  return DotSegmentProblem(path);
}

absl::StatusOr<std::string> RequestMethod(const v1::Request& request) {
  if (request.api() != v1::API_GRAPHQL) return NormalizeMethod(request.method());
  if (request.method().empty()) return std::string("POST");
  absl::StatusOr<std::string> method = NormalizeMethod(request.method());
  if (method.ok() && *method != "POST") {
    return absl::InvalidArgumentError(
        "must be POST or empty for API_GRAPHQL");
  }
  return method;
}

std::optional<FieldViolation> ValidateRequest(const v1::Request& request) {
  absl::StatusOr<std::string> method = RequestMethod(request);
  if (!method.ok()) {
    return Violation("method", std::string(method.status().message()),
                     "INVALID_METHOD");
  }
  const int api = static_cast<int>(request.api());
  if (!v1::Api_IsValid(api)) {
    return Violation("api", absl::StrCat("unknown api value ", api),
                     "INVALID_API");
  }
  if (request.api() == v1::API_GRAPHQL) {
    if (!request.path().empty()) {
      return Violation("path", "must be empty for API_GRAPHQL", "INVALID_PATH");
    }
    if (request.body_case() == v1::Request::BODY_NOT_SET ||
        (request.body_case() == v1::Request::kText && request.text().empty())) {
      return Violation("text",
                       "API_GRAPHQL needs a JSON body {\"query\": ...}",
                       "INVALID_BODY");
    }
  } else if (std::optional<std::string> problem = PathProblem(request.path())) {
    return Violation("path", std::move(*problem), "INVALID_PATH");
  }
  if (auto v = CheckQuery(request)) return v;
  if (auto v = CheckHeaders(request)) return v;
  if (auto v = CheckBody(request, *method)) return v;
  if (auto v = CheckCredentials(request)) return v;
  if (auto v = CheckSudo(request)) return v;
  if (auto v = CheckTimeout(request)) return v;
  if (request.max_attempts() < 0) {
    return Violation("max_attempts",
                     "must not be negative (0 = the gateway's setting, 1 = "
                     "no retries)",
                     "INVALID_MAX_ATTEMPTS");
  }
  return std::nullopt;
}

}  // namespace gitlab_gateway::gitlab
