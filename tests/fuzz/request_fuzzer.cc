// Fuzzes request validation and URL building (gitlab/request_validator,
// gitlab/url_builder, gitlab/credentials) with a Request built from lines:
//
//   base https://gitlab.example.com/gitlab   (the configured GitLab URL)
//   method GET                 api graphql|rest|<number>
//   path /projects/group%2Fdemo
//   query per_page=100         (repeatable; split at the first "=")
//   header Accept: text/plain  (repeatable)
//   private|oauth|job <token>  sudo <user>     id <id>
//   text <body>                content <body>  timeout <seconds> <nanos>
//
// Values are C-unescaped when they can be ("\r\n", "\0"), raw otherwise.
// Invariants: a request that validates builds a URL under the API root with
// no control byte, space or fragment, no dot segment, an encoded query, and
// header lines without CR/LF/NUL or a reserved name (in any spelling); a
// refused one gets a field, a documented reason, UTF-8 text that does not
// depend on the token's bytes, and a well-formed status.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/gitlab/credentials.h"
#include "service/gitlab/request_validator.h"
#include "service/gitlab/status_mapping.h"
#include "service/gitlab/url_builder.h"
#include "tests/fuzz/fuzz_support.h"

namespace gitlab_gateway::fuzz {
namespace {

namespace v1 = ::gitlab::gateway::v1;
using gitlab::BaseUrl;

constexpr absl::string_view kDefaultBase = "https://gitlab.example.com/gitlab";

struct Input {
  v1::Request request;
  std::string base = std::string(kDefaultBase);
};

Input Parse(absl::string_view data) {
  Input in;
  v1::Request& r = in.request;
  for (absl::string_view line : absl::StrSplit(data, '\n')) {
    auto [key, raw] = SplitKey(line);
    const std::string value = Unescape(raw);
    if (key == "base") {
      in.base = value;
    } else if (key == "method") {
      r.set_method(value);
    } else if (key == "api") {
      int n = 0;
      if (value == "graphql") {
        r.set_api(v1::API_GRAPHQL);
      } else if (absl::SimpleAtoi(value, &n)) {
        r.set_api(static_cast<v1::Api>(n));
      }
    } else if (key == "path") {
      r.set_path(value);
    } else if (key == "query") {
      const size_t eq = value.find('=');
      v1::Param* p = r.add_query();
      p->set_key(value.substr(0, eq));
      if (eq != std::string::npos) p->set_value(value.substr(eq + 1));
    } else if (key == "header") {
      auto [name, header_value] = SplitHeader(value);
      v1::Header* h = r.add_headers();
      h->set_name(name);
      h->set_value(header_value);
    } else if (key == "private") {
      r.mutable_credentials()->set_private_token(value);
    } else if (key == "oauth") {
      r.mutable_credentials()->set_oauth_token(value);
    } else if (key == "job") {
      r.mutable_credentials()->set_job_token(value);
    } else if (key == "sudo") {
      r.set_sudo(value);
    } else if (key == "id") {
      r.set_id(value);
    } else if (key == "text") {
      r.set_text(value);
    } else if (key == "content") {
      r.set_content(value);
    } else if (key == "timeout") {
      auto [seconds, nanos] = SplitKey(value);
      int64_t s = 0;
      int32_t n = 0;
      (void)absl::SimpleAtoi(seconds, &s);
      (void)absl::SimpleAtoi(nanos, &n);
      r.mutable_timeout()->set_seconds(s);
      r.mutable_timeout()->set_nanos(n);
    }
  }
  return in;
}

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void CheckQuery(absl::string_view query) {
  for (size_t i = 0; i < query.size(); ++i) {
    const char c = query[i];
    if (c == '%') {
      GG_FUZZ_CHECK(
          i + 2 < query.size() &&
              absl::ascii_isxdigit(static_cast<unsigned char>(query[i + 1])) &&
              absl::ascii_isxdigit(static_cast<unsigned char>(query[i + 2])),
          query);
      i += 2;
      continue;
    }
    GG_FUZZ_CHECK(IsUnreserved(c) || c == '=' || c == '&', query);
  }
}

// The header lines the gateway sends for `r`, built from the same pieces as
// UpstreamCaller::BuildHttpRequest (server/, not linked here).
std::vector<std::string> HeaderLines(const v1::Request& r) {
  std::vector<std::string> lines;
  if (auto credential = gitlab::CredentialFromProto(r.credentials())) {
    lines.push_back(gitlab::AuthHeaderLine(*credential));
  }
  if (!r.sudo().empty()) lines.push_back(absl::StrCat("Sudo: ", r.sudo()));
  for (const v1::Header& h : r.headers()) {
    lines.push_back(h.value().empty()
                        ? absl::StrCat(h.name(), ";")
                        : absl::StrCat(h.name(), ": ", h.value()));
  }
  return lines;
}

// Header names the caller may not send, as a server reads them: any case,
// and '_' the same as '-' (Rack maps both spellings to one variable).
bool IsReserved(absl::string_view name) {
  static constexpr absl::string_view kReserved[] = {"host",
                                                    "content-length",
                                                    "expect",
                                                    "transfer-encoding",
                                                    "connection",
                                                    "keep-alive",
                                                    "proxy-connection",
                                                    "te",
                                                    "trailer",
                                                    "upgrade",
                                                    "private-token",
                                                    "authorization",
                                                    "job-token",
                                                    "proxy-authorization",
                                                    "sudo"};
  std::string folded = absl::AsciiStrToLower(name);
  for (char& c : folded) {
    if (c == '_') c = '-';
  }
  for (absl::string_view reserved : kReserved) {
    if (folded == reserved) return true;
  }
  return false;
}

void CheckAccepted(const BaseUrl& base, const v1::Request& r) {
  absl::StatusOr<std::string> method = gitlab::RequestMethod(r);
  GG_FUZZ_CHECK(method.ok(), r.method());
  GG_FUZZ_CHECK(*method == "GET" || *method == "HEAD" || *method == "POST" ||
                    *method == "PUT" || *method == "PATCH" ||
                    *method == "DELETE",
                *method);
  for (const v1::Header& h : r.headers()) {
    GG_FUZZ_CHECK(!IsReserved(h.name()), h.name());
  }
  for (const std::string& line : HeaderLines(r)) {
    GG_FUZZ_CHECK(
        line.find_first_of(std::string("\r\n\0", 3)) == std::string::npos,
        line);
    const size_t colon = line.find_first_of(":;");
    GG_FUZZ_CHECK(colon != std::string::npos && colon > 0, line);
  }
  if (r.api() == v1::API_GRAPHQL) {
    GG_FUZZ_CHECK(gitlab::BuildGraphqlUrl(base) ==
                      absl::StrCat(base.origin, base.prefix, "/api/graphql"),
                  base.origin);
    return;
  }
  const std::string url = gitlab::BuildRestUrl(base, r.path(), r.query());
  const std::string root = absl::StrCat(base.origin, base.prefix, "/api/v4/");
  GG_FUZZ_CHECK(absl::StartsWith(url, root), url);
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    GG_FUZZ_CHECK(u > 0x20 && u != 0x7f && c != '#', url);
  }
  const absl::string_view after_root =
      absl::string_view(url).substr(root.size() - 1);
  const size_t question = after_root.find('?');
  const absl::string_view path = after_root.substr(0, question);
  GG_FUZZ_CHECK(path == r.path(), url);
  GG_FUZZ_CHECK(!HasDotSegment(path), url);
  GG_FUZZ_CHECK(!absl::StartsWith(path, "//"), url);
  if (question != absl::string_view::npos) {
    GG_FUZZ_CHECK(r.query_size() > 0, url);
    CheckQuery(after_root.substr(question + 1));
  }
  // A URL the gateway builds is one it would follow as a Link rel="next".
  if (path.size() > 1) {
    absl::StatusOr<std::string> next = gitlab::ResolveNextLink(base, url);
    GG_FUZZ_CHECK(next.ok() && *next == url,
                  absl::StrCat(url, " ", next.status().ToString()));
  }
}

void CheckRefused(const v1::Request& r, const gitlab::FieldViolation& v) {
  GG_FUZZ_CHECK(!v.field.empty(), v.description);
  GG_FUZZ_CHECK(!v.description.empty(), v.field);
  GG_FUZZ_CHECK(IsUtf8(v.field) && IsUtf8(v.description),
                v.field + ": " + v.description);
  static constexpr absl::string_view kReasons[] = {
      "INVALID_METHOD",      "INVALID_API",    "INVALID_PATH",
      "INVALID_QUERY",       "INVALID_HEADER", "INVALID_BODY",
      "INVALID_CREDENTIALS", "INVALID_SUDO",   "INVALID_TIMEOUT"};
  bool known = false;
  for (absl::string_view reason : kReasons) known |= v.reason == reason;
  GG_FUZZ_CHECK(known, v.reason);
  if (absl::StartsWith(v.field, "credentials")) {
    // The description may depend on the token's shape, never its bytes: the
    // same request with every printable byte of the token replaced gets the
    // same violation.
    GG_FUZZ_CHECK(gitlab::CredentialFromProto(r.credentials()).has_value(),
                  v.field);
    v1::Request masked = r;
    v1::Credentials& c = *masked.mutable_credentials();
    std::string* token = c.has_private_token() ? c.mutable_private_token()
                         : c.has_oauth_token() ? c.mutable_oauth_token()
                                               : c.mutable_job_token();
    for (char& ch : *token) {
      if (ch > 0x20 && ch < 0x7f) ch = 'Z';
    }
    std::optional<gitlab::FieldViolation> again =
        gitlab::ValidateRequest(masked);
    GG_FUZZ_CHECK(again.has_value() && again->field == v.field &&
                      again->description == v.description,
                  v.description);
  }
  const grpc::Status status = gitlab::InvalidArgument(v);
  GG_FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT,
                status.error_message());
  CheckErrorDetails(status);
}

void TestOneInput(absl::string_view data) {
  Input in = Parse(data);
  absl::StatusOr<gitlab::BaseUrl> base = gitlab::ParseBaseUrl(in.base);
  if (!base.ok()) {
    GG_FUZZ_CHECK(!base.status().message().empty(), in.base);
    base = gitlab::ParseBaseUrl(kDefaultBase);
  } else {
    GG_FUZZ_CHECK(base->scheme == "http" || base->scheme == "https", in.base);
    GG_FUZZ_CHECK(!HasControl(base->origin) &&
                      base->origin.find_first_of(" @?#") == std::string::npos,
                  base->origin);
    GG_FUZZ_CHECK(!HasDotSegment(base->prefix), base->prefix);
    GG_FUZZ_CHECK(base->port >= 1 && base->port <= 65535, in.base);
  }
  if (std::optional<gitlab::FieldViolation> violation =
          gitlab::ValidateRequest(in.request)) {
    CheckRefused(in.request, *violation);
  } else {
    CheckAccepted(*base, in.request);
  }
}

}  // namespace
}  // namespace gitlab_gateway::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gitlab_gateway::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
