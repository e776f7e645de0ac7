#include "service/gitlab/url_builder.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/gitlab/request_validator.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// Messages never repeat the URL: a misconfigured one may hold a password.
absl::Status BadUrl(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("gitlab base URL: ", why));
}

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == ':' ||
         c == '.';
}

// Splits "host[:port]" / "[v6][:port]" into host and port text; `has_port`
// tells "host:" (empty port, an error) from "host".
absl::Status SplitAuthority(absl::string_view authority, std::string& host,
                            absl::string_view& port, bool& has_port) {
  absl::string_view rest;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return BadUrl("unterminated IPv6 literal (missing \"]\")");
    }
    const absl::string_view inner = authority.substr(1, close - 1);
    if (inner.empty() || !absl::StrContains(inner, ':')) {
      return BadUrl("invalid IPv6 literal");
    }
    for (char c : inner) {
      if (!IsIpv6Char(c)) return BadUrl("invalid IPv6 literal");
    }
    host = std::string(authority.substr(0, close + 1));
    rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') {
      return BadUrl("unexpected characters after the IPv6 literal");
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != absl::string_view::npos &&
        authority.find(':', colon + 1) != absl::string_view::npos) {
      return BadUrl("IPv6 addresses must be written in brackets: [::1]");
    }
    host = std::string(authority.substr(0, colon));
    rest = colon == absl::string_view::npos ? "" : authority.substr(colon);
    if (host.empty()) return BadUrl("must name a host");
    for (char c : host) {
      if (!IsHostChar(c)) return BadUrl("invalid character in host");
    }
  }
  has_port = !rest.empty();
  port = has_port ? rest.substr(1) : "";
  return absl::OkStatus();
}

absl::Status CheckPrefix(absl::string_view prefix) {
  if (prefix.empty()) return absl::OkStatus();
  if (absl::StrContains(prefix, '\\')) {
    return BadUrl("path must not contain \"\\\"");
  }
  // prefix starts with "/", so the first piece is always empty.
  for (absl::string_view segment : absl::StrSplit(prefix.substr(1), '/')) {
    if (segment.empty()) return BadUrl("path must not contain \"//\"");
    if (segment == "." || segment == "..") {
      return BadUrl("path must not contain \".\" or \"..\" segments");
    }
  }
  // The rules of request paths too: encoded dot segments ("/%2E%2e",
  // "/a%2F..") are dot segments to a server that decodes them.
  if (std::optional<std::string> problem = PathProblem(prefix)) {
    return BadUrl(absl::StrCat("path ", *problem));
  }
  const std::string lower = absl::AsciiStrToLower(prefix);
  if (absl::EndsWith(lower, "/api/v4")) {
    return BadUrl("must be the GitLab root URL, without /api/v4");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BaseUrl> ParseBaseUrl(absl::string_view url) {
  if (url.empty()) return BadUrl("must not be empty");
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return BadUrl("must not contain whitespace or control characters");
    }
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return BadUrl("must start with http:// or https://");
  }
  BaseUrl base;
  base.scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (base.scheme != "http" && base.scheme != "https") {
    return BadUrl("scheme must be http or https");
  }
  const absl::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return BadUrl("must not contain a query or fragment");
  }
  const size_t slash = rest.find('/');
  const absl::string_view authority = rest.substr(0, slash);
  absl::string_view path =
      slash == absl::string_view::npos ? "" : rest.substr(slash);
  if (absl::StrContains(authority, '@')) {
    return BadUrl("must not contain userinfo (user:password@)");
  }
  if (authority.empty()) return BadUrl("must name a host");

  absl::string_view port_text;
  bool has_port = false;
  if (absl::Status s =
          SplitAuthority(authority, base.host, port_text, has_port);
      !s.ok()) {
    return s;
  }
  absl::AsciiStrToLower(&base.host);
  const int default_port = base.scheme == "https" ? 443 : 80;
  base.port = default_port;
  if (has_port) {
    int port = 0;
    if (port_text.empty() || port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
      return BadUrl("port must be a number in [1, 65535]");
    }
    base.port = port;
  }

  while (absl::ConsumeSuffix(&path, "/")) {
  }
  if (absl::Status s = CheckPrefix(path); !s.ok()) return s;
  base.prefix = std::string(path);
  base.origin = absl::StrCat(base.scheme, "://", base.host);
  if (base.port != default_port) absl::StrAppend(&base.origin, ":", base.port);
  return base;
}

std::string PercentEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(c);
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 0xf]);
  }
  return out;
}

std::string BuildQuery(
    const google::protobuf::RepeatedPtrField<v1::Param>& query) {
  std::string out;
  for (const v1::Param& param : query) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, PercentEncode(param.key()), "=",
                    PercentEncode(param.value()));
  }
  return out;
}

std::string BuildRestUrl(
    const BaseUrl& base, absl::string_view path,
    const google::protobuf::RepeatedPtrField<v1::Param>& query) {
  std::string url = absl::StrCat(base.origin, base.prefix, "/api/v4", path);
  if (!query.empty()) absl::StrAppend(&url, "?", BuildQuery(query));
  return url;
}

std::string BuildGraphqlUrl(const BaseUrl& base) {
  return absl::StrCat(base.origin, base.prefix, "/api/graphql");
}

absl::StatusOr<std::string> ResolveNextLink(const BaseUrl& base,
                                            absl::string_view link) {
  const std::string root = absl::StrCat(base.origin, base.prefix, "/api/v4/");
  if (link.size() <= root.size() ||
      !absl::EqualsIgnoreCase(link.substr(0, root.size()), root)) {
    return absl::FailedPreconditionError(
        "next link: does not stay on the configured GitLab host and API root");
  }
  for (char c : link) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#') {
      return absl::FailedPreconditionError(
          "next link: holds a control character, space or fragment");
    }
  }
  absl::string_view rest = link.substr(root.size() - 1);  // "/projects?..."
  absl::string_view path = rest.substr(0, rest.find('?'));
  if (std::optional<std::string> problem = PathProblem(path)) {
    return absl::FailedPreconditionError(absl::StrCat("next link: ", *problem));
  }
  return std::string(link);
}

}  // namespace gitlab_gateway::gitlab
