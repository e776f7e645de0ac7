#include "service/gitlab/request_validator.h"

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Every secret-looking value in these tables contains this marker; no
// violation may ever repeat it.
constexpr char kSecret[] = "s3cr3t";

auto RowName = [](const auto& info) { return info.param.name; };

// ---------------------------------------------------------------- methods

struct MethodRow {
  std::string name;
  std::string method;
  std::string want;  // "" = refused
};

void PrintTo(const MethodRow& row, std::ostream* os) { *os << row.name; }

class NormalizeMethodTest : public testing::TestWithParam<MethodRow> {};

TEST_P(NormalizeMethodTest, Row) {
  const MethodRow& row = GetParam();
  absl::StatusOr<std::string> got = NormalizeMethod(row.method);
  if (row.want.empty()) {
    ASSERT_FALSE(got.ok()) << *got;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(), HasSubstr("unsupported method"));
  } else {
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, row.want);
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, NormalizeMethodTest,
                         testing::ValuesIn(std::vector<MethodRow>{
                             {"EmptyIsGet", "", "GET"},
                             {"Get", "GET", "GET"},
                             {"LowerGet", "get", "GET"},
                             {"MixedGet", "gEt", "GET"},
                             {"Head", "head", "HEAD"},
                             {"Post", "Post", "POST"},
                             {"Put", "put", "PUT"},
                             {"Patch", "pAtCh", "PATCH"},
                             {"Delete", "delete", "DELETE"},
                             {"Options", "OPTIONS", ""},
                             {"Trace", "TRACE", ""},
                             {"Connect", "connect", ""},
                             {"Prefix", "GETX", ""},
                             {"LeadingSpace", " GET", ""},
                             {"TrailingSpace", "GET ", ""},
                             {"CrLf", "G\r\nET", ""},
                         }),
                         RowName);

// ---------------------------------------------------------------- paths

struct PathRow {
  std::string name;
  std::string path;
  std::string want;  // "" = accepted, else a substring of the description
};

void PrintTo(const PathRow& row, std::ostream* os) { *os << row.name; }

class PathTest : public testing::TestWithParam<PathRow> {};

TEST_P(PathTest, Row) {
  const PathRow& row = GetParam();
  std::optional<std::string> problem = PathProblem(row.path);
  v1::Request request;
  request.set_path(row.path);
  std::optional<FieldViolation> violation = ValidateRequest(request);
  if (row.want.empty()) {
    EXPECT_EQ(problem, std::nullopt);
    EXPECT_FALSE(violation.has_value()) << violation->description;
    return;
  }
  ASSERT_TRUE(problem.has_value());
  EXPECT_THAT(*problem, HasSubstr(row.want));
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->field, "path");
  EXPECT_EQ(violation->reason, "INVALID_PATH");
  EXPECT_EQ(violation->description, *problem);
}

constexpr char kDots[] = "\"..\" segments are not allowed";
constexpr char kDot[] = "\".\" segments are not allowed";
constexpr char kControl[] = "control characters";
constexpr char kEscape[] = "invalid percent escape";
constexpr char kScheme[] = "URL scheme";

// clang-format off
INSTANTIATE_TEST_SUITE_P(Rows, PathTest, testing::ValuesIn(std::vector<PathRow>{
    // Accepted.
    {"Root", "/", ""},
    {"Collection", "/projects", ""},
    {"EncodedFullPath", "/projects/group%2Fdemo/issues", ""},
    {"EncodedFilePath", "/projects/1/repository/files/src%2Fmain.c/raw", ""},
    {"DotInName", "/projects/a.b/x", ""},
    {"DoubleDotInsideName", "/projects/a..b", ""},
    {"ThreeDots", "/projects/1/x%2F...%2Fy", ""},
    {"DotFile", "/projects/1/repository/files/.gitignore", ""},
    {"EncodedDotFile", "/projects/1/repository/files/d%2F.gitlab-ci.yml", ""},
    {"EncodedDotPrefix", "/projects/1/repository/files/%2Egit", ""},
    {"DoubleEncodedDotsStayLiteral", "/projects/%252e%252e/x", ""},
    {"Colon", "/projects/1/x:y", ""},
    {"EmptyMiddleSegment", "/projects//issues", ""},
    {"Utf8", "/projects/gr\xC3\xBCn", ""},
    {"Tilde", "/users/~me", ""},
    {"MaxLength", "/" + std::string(kMaxPathBytes - 1, 'a'), ""},
    // Shape.
    {"Empty", "", "must not be empty"},
    {"NoLeadingSlash", "projects", "must start with \"/\""},
    {"TooLong", "/" + std::string(kMaxPathBytes, 'a'), "at most 8192 bytes"},
    {"Host", "//evil.example/x", "(a host)"},
    {"HostBackslash", "/\\evil.example", "(a host)"},
    {"AbsoluteUrl", "http://evil.example/x", kScheme},
    {"EmbeddedScheme", "/redirect/http://evil.example", kScheme},
    {"CustomScheme", "/x/javascript://y", kScheme},
    {"SchemeNoSlashes", "/http:evil.example", kScheme},
    {"UpperScheme", "/HTTPS:x", kScheme},
    {"Query", "/projects?owned=true", "\"?\""},
    {"Fragment", "/projects#x", "\"#\""},
    // Bytes that could split or end the request line.
    {"CrLf", "/projects\r\nX-Injected: 1", kControl},
    {"Lf", "/projects\nx", kControl},
    {"Cr", "/projects\rx", kControl},
    {"Nul", std::string("/projects\0x", 11), kControl},
    {"Tab", "/projects\tx", kControl},
    {"Del", "/projects\x7f", kControl},
    {"Space", "/projects/a b", "spaces"},
    {"EncodedNul", "/projects/a%00b", "%00"},
    // Percent escapes.
    {"EscapeNotHex", "/projects/%zz", kEscape},
    {"EscapeOneDigit", "/projects/%4", kEscape},
    {"EscapeBare", "/projects/%", kEscape},
    {"EscapeSecondNotHex", "/projects/%4g/x", kEscape},
    {"EscapeBeforeSlash", "/projects/%2/x", kEscape},
    // Literal dot segments.
    {"DotDotOnly", "/..", kDots},
    {"DotDotMiddle", "/projects/../users", kDots},
    {"DotDotEnd", "/projects/1/..", kDots},
    {"DotDotTrailingSlash", "/projects/../", kDots},
    {"DotOnly", "/.", kDot},
    {"DotStart", "/./projects", kDot},
    {"DotMiddle", "/projects/./1", kDot},
    {"DotEnd", "/projects/.", kDot},
    // Percent-encoded dots, every case mix.
    {"EncodedDotsLower", "/projects/%2e%2e/x", kDots},
    {"EncodedDotsUpper", "/projects/%2E%2E/x", kDots},
    {"EncodedDotsMixed", "/projects/%2e%2E/x", kDots},
    {"EncodedDotThenDot", "/projects/%2e./x", kDots},
    {"DotThenEncodedDot", "/projects/.%2E/x", kDots},
    {"EncodedDotsAtEnd", "/projects/1/%2E%2e", kDots},
    {"EncodedSingleDot", "/projects/%2e/x", kDot},
    {"EncodedSingleDotUpper", "/projects/%2E", kDot},
    // Dot segments between encoded or backslash separators.
    {"EncodedSlashDots", "/projects/a%2F..%2Fb", kDots},
    {"EncodedSlashLowerDots", "/projects/a%2f..%2fb", kDots},
    {"EncodedSlashEncodedDots", "/projects/a%2F%2e%2e%2Fb", kDots},
    {"EncodedSlashMixedDots", "/projects/a%2F%2E.%2Fusers", kDots},
    {"EncodedSlashDotsAtEnd", "/projects/a%2F..", kDots},
    {"EncodedSlashDotsAtStart", "/projects/..%2Fb", kDots},
    {"EncodedSlashDot", "/projects/1/repository/files/a%2F.%2Fb", kDot},
    {"EncodedSlashEncodedDot", "/projects/a%2F%2e%2Fb", kDot},
    {"FilePathTraversal", "/projects/1/repository/files/..%2Fsecret", kDots},
    {"FilePathEncodedTraversal", "/projects/1/repository/files/%2e%2e%2Fsecret", kDots},
    {"EncodedBackslashDots", "/projects/a%5C..%5Cb", kDots},
    {"EncodedBackslashLowerDots", "/projects/a%5c%2e%2e", kDots},
    {"BackslashDots", "/projects/a\\..\\b", kDots},
    {"BackslashEncodedDots", "/projects/a\\%2E%2E", kDots},
    {"BackslashDot", "/projects/a\\.\\b", kDot},
}), RowName);
// clang-format on

// ---------------------------------------------------------------- requests

using Edit = std::function<void(v1::Request&)>;

struct RequestRow {
  std::string name;
  Edit edit;
  std::string field;        // "" = valid
  std::string reason;       // ErrorInfo reason
  std::string description;  // substring
};

void PrintTo(const RequestRow& row, std::ostream* os) { *os << row.name; }

class ValidateRequestTest : public testing::TestWithParam<RequestRow> {};

TEST_P(ValidateRequestTest, Row) {
  const RequestRow& row = GetParam();
  v1::Request request;
  request.set_id("req-1");
  request.set_path("/projects/group%2Fdemo/issues");
  row.edit(request);
  std::optional<FieldViolation> got = ValidateRequest(request);
  if (row.field.empty()) {
    EXPECT_FALSE(got.has_value())
        << got->field << ": " << got->description << " (" << got->reason << ")";
    return;
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->field, row.field);
  EXPECT_EQ(got->reason, row.reason);
  EXPECT_THAT(got->description, HasSubstr(row.description));
  EXPECT_THAT(got->description, Not(HasSubstr(kSecret)));
  EXPECT_THAT(got->field, Not(HasSubstr(kSecret)));
}

// Edits applied to a valid GET of "/projects/group%2Fdemo/issues".
Edit Noop() {
  return [](v1::Request&) {};
}
Edit Method(std::string m) {
  return [=](v1::Request& r) { r.set_method(m); };
}
Edit Path(std::string p) {
  return [=](v1::Request& r) { r.set_path(p); };
}
Edit Api(int api) {
  return [=](v1::Request& r) { r.set_api(static_cast<v1::Api>(api)); };
}
Edit Text(std::string t) {
  return [=](v1::Request& r) { r.set_text(t); };
}
Edit Content(std::string c) {
  return [=](v1::Request& r) { r.set_content(c); };
}
Edit Sudo(std::string s) {
  return [=](v1::Request& r) { r.set_sudo(s); };
}
Edit Params(int n, std::string key, std::string value) {
  return [=](v1::Request& r) {
    for (int i = 0; i < n; ++i) {
      v1::Param* p = r.add_query();
      p->set_key(key);
      p->set_value(value);
    }
  };
}
Edit Header(std::string name, std::string value) {
  return [=](v1::Request& r) {
    v1::Header* h = r.add_headers();
    h->set_name(name);
    h->set_value(value);
  };
}
Edit Private(std::string t) {
  return [=](v1::Request& r) { r.mutable_credentials()->set_private_token(t); };
}
Edit OAuth(std::string t) {
  return [=](v1::Request& r) { r.mutable_credentials()->set_oauth_token(t); };
}
Edit Job(std::string t) {
  return [=](v1::Request& r) { r.mutable_credentials()->set_job_token(t); };
}
Edit MaxAttempts(int32_t n) {
  return [=](v1::Request& r) { r.set_max_attempts(n); };
}

Edit Timeout(int64_t seconds, int32_t nanos) {
  return [=](v1::Request& r) {
    r.mutable_timeout()->set_seconds(seconds);
    r.mutable_timeout()->set_nanos(nanos);
  };
}
Edit All(std::vector<Edit> edits) {
  return [=](v1::Request& r) {
    for (const Edit& e : edits) e(r);
  };
}

std::string Repeat(absl::string_view s, size_t n) {
  std::string out;
  while (out.size() < n) out.append(s.data(), s.size());
  out.resize(n);
  return out;
}

const std::string kQ = "INVALID_QUERY", kH = "INVALID_HEADER",
                  kC = "INVALID_CREDENTIALS", kS = "INVALID_SUDO",
                  kT = "INVALID_TIMEOUT", kB = "INVALID_BODY",
                  kHop = "hop-by-hop header", kOwned = "set by the gateway",
                  kCreds = "credentials go in the credentials field",
                  kName = "headers[0].name", kValue = "headers[0].value";
const std::string kToken = std::string("glpat-") + kSecret + "-abc123";

// clang-format off
INSTANTIATE_TEST_SUITE_P(Rows, ValidateRequestTest, testing::ValuesIn(std::vector<RequestRow>{
    {"Base", Noop(), "", "", ""},
    {"PostLowercase", Method("post"), "", "", ""},
    {"Method", Method("OPTIONS"), "method", "INVALID_METHOD", "unsupported method"},
    // api
    {"Graphql", All({Api(1), Path(""), Method("POST"), Text("{}")}), "", "", ""},
    {"GraphqlDefaultsToPost", All({Api(1), Path(""), Text("{}")}), "", "", ""},
    {"GraphqlGet", All({Api(1), Path(""), Method("GET"), Text("{}")}), "method", "INVALID_METHOD", "must be POST or empty for API_GRAPHQL"},
    {"GraphqlNoBody", All({Api(1), Path(""), Method("POST")}), "text", "INVALID_BODY", "needs a JSON body"},
    {"GraphqlWithPath", All({Api(1), Path("/projects")}), "path", "INVALID_PATH", "must be empty for API_GRAPHQL"},
    {"UnknownApi", Api(7), "api", "INVALID_API", "unknown api value 7"},
    {"NegativeApi", Api(-1), "api", "INVALID_API", "unknown api value -1"},
    {"RestEmptyPath", Path(""), "path", "INVALID_PATH", "must not be empty"},
    // query
    {"QueryRepeatedKeys", Params(2, "labels[]", "bug"), "", "", ""},
    {"QueryEmptyValue", Params(1, "search", ""), "", "", ""},
    {"QueryCrLfGetsEncoded", Params(1, "a\r\nb", "c\r\nd"), "", "", ""},
    {"QueryMaxParams", Params(kMaxQueryParams, "k", "v"), "", "", ""},
    {"QueryTooMany", Params(kMaxQueryParams + 1, "k", "v"), "query", kQ, "at most 1000 parameters"},
    {"QueryEmptyKey", All({Params(3, "k", "v"), Params(1, "", "v")}), "query[3].key", kQ, "must not be empty"},
    {"QueryNulKey", Params(1, std::string("a\0b", 3), "v"), "query[0].key", kQ, "NUL"},
    {"QueryMaxBytes", Params(16, "k", std::string(kMaxQueryBytes / 16 - 1, 'v')), "", "", ""},
    {"QueryTooManyBytes", Params(16, "k", std::string(kMaxQueryBytes / 16, 'v')), "query", kQ, "at most 65536 bytes in all"},
    {"QueryNulValue", All({Params(1, "k", "v"), Params(1, "k", std::string("\0", 1))}), "query[1].value", kQ, "NUL"},
    // header names and values
    {"HeaderCustom", Header("X-Request-Source", "billing"), "", "", ""},
    {"HeaderAccept", Header("Accept", "application/json"), "", "", ""},
    {"HeaderCookieAllowed", Header("Cookie", "a=b"), "", "", ""},
    {"HeaderIfNoneMatch", Header("If-None-Match", "W/\"abc\""), "", "", ""},
    {"HeaderAllTchars", Header("X!#$%&'*+-.^_`|~9", "v"), "", "", ""},
    {"HeaderValueTab", Header("X-A", "a\tb"), "", "", ""},
    {"HeaderValueUtf8", Header("X-A", "gr\xC3\xBCn"), "", "", ""},
    {"HeaderEmptyValue", Header("X-A", ""), "", "", ""},
    {"HeaderEmptyName", Header("", "v"), kName, kH, "must not be empty"},
    {"HeaderNameSpace", Header("Bad Name", "v"), kName, kH, "HTTP token"},
    {"HeaderNameColon", Header("X:Y", "v"), kName, kH, "HTTP token"},
    {"HeaderNameCrLf", Header("X\r\nY", "v"), kName, kH, "HTTP token"},
    {"HeaderNameUtf8", Header("X-Gr\xC3\xBCn", "v"), kName, kH, "HTTP token"},
    {"HeaderValueCrLf", All({Header("X-A", "ok"), Header("X-B", "a\r\nHost: evil")}), "headers[1].value", kH, "CR, LF"},
    {"HeaderValueLf", Header("X-A", "a\nb"), kValue, kH, "CR, LF"},
    {"HeaderValueNul", Header("X-A", std::string("a\0b", 3)), kValue, kH, "NUL"},
    {"HeaderValueControl", Header("X-A", "a\x01"), kValue, kH, "control characters"},
    {"HeaderSecretWithCrLf", Header("X-Token", kToken + "\r\n"), kValue, kH, "CR, LF"},
    {"HeadersMax", [](v1::Request& r) { for (int i = 0; i < kMaxHeaders; ++i) Header("X-A", "v")(r); }, "", "", ""},
    {"HeadersTooMany", [](v1::Request& r) { for (int i = 0; i <= kMaxHeaders; ++i) Header("X-A", "v")(r); }, "headers", kH, "at most 100 headers are allowed, got 101"},
    {"HeadersMaxBytes", [](v1::Request& r) { for (int i = 0; i < 16; ++i) Header("X-A", std::string(kMaxHeaderBytes / 16 - 7, 'v'))(r); }, "", "", ""},
    {"HeadersTooManyBytes", [](v1::Request& r) { for (int i = 0; i < 16; ++i) Header("X-A", std::string(kMaxHeaderBytes / 16 - 6, 'v'))(r); }, "headers", kH, "at most 65536 bytes in all"},
    // reserved header names, any case, '_' for '-' (Rack reads both alike)
    {"HeaderPrivateTokenUnderscore", Header("PRIVATE_TOKEN", kToken), kName, kH, kCreds},
    {"HeaderPrivateTokenMixed", Header("Private_Token", kToken), kName, kH, kCreds},
    {"HeaderJobTokenUnderscore", Header("JOB_TOKEN", kToken), kName, kH, kCreds},
    {"HeaderContentLengthUnderscore", Header("content_length", "5"), kName, kH, kOwned},
    {"HeaderTransferEncodingUnderscore", Header("Transfer_Encoding", "chunked"), kName, kH, kHop},
    {"HeaderUnderscoreOtherwiseFine", Header("X_Request_Source", "billing"), "", "", ""},
    {"HeaderHost", Header("Host", "evil"), kName, kH, kOwned},
    {"HeaderHostLower", Header("host", "evil"), kName, kH, kOwned},
    {"HeaderContentLength", Header("Content-Length", "5"), kName, kH, kOwned},
    {"HeaderExpect", Header("expect", "100-continue"), kName, kH, kOwned},
    {"HeaderTransferEncoding", Header("Transfer-Encoding", "chunked"), kName, kH, kHop},
    {"HeaderConnection", Header("CONNECTION", "close"), kName, kH, kHop},
    {"HeaderKeepAlive", Header("Keep-Alive", "timeout=5"), kName, kH, kHop},
    {"HeaderProxyConnection", Header("Proxy-Connection", "x"), kName, kH, kHop},
    {"HeaderTe", Header("te", "trailers"), kName, kH, kHop},
    {"HeaderTrailer", Header("Trailer", "x"), kName, kH, kHop},
    {"HeaderUpgrade", Header("Upgrade", "h2c"), kName, kH, kHop},
    {"HeaderPrivateToken", Header("PRIVATE-TOKEN", kToken), kName, kH, kCreds},
    {"HeaderPrivateTokenLower", Header("private-token", kToken), kName, kH, kCreds},
    {"HeaderAuthorization", Header("Authorization", "Bearer " + kToken), kName, kH, kCreds},
    {"HeaderJobToken", Header("Job-Token", kToken), kName, kH, kCreds},
    {"HeaderProxyAuthorization", Header("Proxy-Authorization", "Basic " + kToken), kName, kH, kCreds},
    {"HeaderSudo", Header("SUDO", "root"), kName, kH, "use the sudo field"},
    // body
    {"PostText", All({Method("POST"), Text("{}")}), "", "", ""},
    {"PutContent", All({Method("PUT"), Content("\x01\x02")}), "", "", ""},
    {"DeleteText", All({Method("DELETE"), Text("{}")}), "", "", ""},
    {"GetEmptyText", Text(""), "", "", ""},
    {"GetText", Text("{}"), "text", kB, "must be empty for GET"},
    {"HeadContent", All({Method("head"), Content("x")}), "content", kB, "must be empty for HEAD"},
    // credentials: the token never appears in a violation
    {"NoCredentials", [](v1::Request& r) { r.mutable_credentials(); }, "", "", ""},
    {"PrivateToken", Private(kToken), "", "", ""},
    {"OAuthToken", OAuth(kToken), "", "", ""},
    {"JobToken", Job(kToken), "", "", ""},
    {"TokenMaxLength", Private(Repeat(kToken, 4096)), "", "", ""},
    {"PrivateEmpty", Private(""), "credentials.private_token", kC, "must not be empty"},
    {"OAuthEmpty", OAuth(""), "credentials.oauth_token", kC, "must not be empty"},
    {"JobEmpty", Job(""), "credentials.job_token", kC, "must not be empty"},
    {"TokenSpace", OAuth(kToken + " x"), "credentials.oauth_token", kC, "without whitespace"},
    {"TokenNewline", Job(kToken + "\n"), "credentials.job_token", kC, "without whitespace"},
    {"TokenCrLf", Private(kToken + "\r\nX: y"), "credentials.private_token", kC, "control characters"},
    {"TokenNul", Private(kToken + std::string("\0", 1)), "credentials.private_token", kC, "control characters"},
    {"TokenTab", Private("\t" + kToken), "credentials.private_token", kC, "whitespace"},
    {"TokenUtf8", Private(kToken + "\xC3\xBC"), "credentials.private_token", kC, "printable ASCII"},
    {"TokenTooLong", Private(Repeat(kToken, 4097)), "credentials.private_token", kC, "at most 4096 bytes"},
    // sudo
    {"SudoUsername", Sudo("root"), "", "", ""},
    {"SudoId", Sudo("42"), "", "", ""},
    {"SudoMaxLength", Sudo(std::string(255, 'u')), "", "", ""},
    {"SudoTooLong", Sudo(std::string(256, 'u')), "sudo", kS, "at most 255 bytes"},
    {"SudoCrLf", Sudo("root\r\nX: y"), "sudo", kS, "control characters"},
    {"SudoNul", Sudo(std::string("ro\0ot", 5)), "sudo", kS, "control characters"},
    // timeout
    {"TimeoutSeconds", Timeout(5, 0), "", "", ""},
    {"TimeoutNanos", Timeout(0, 1), "", "", ""},
    {"TimeoutMaxNanos", Timeout(1, 999999999), "", "", ""},
    {"TimeoutZero", Timeout(0, 0), "timeout", kT, "must be positive"},
    {"TimeoutNegativeSeconds", Timeout(-1, 0), "timeout", kT, "must not be negative"},
    {"TimeoutNegativeNanos", Timeout(0, -1), "timeout", kT, "must not be negative"},
    {"TimeoutNanosOverflow", Timeout(1, 1000000000), "timeout", kT, "nanos must be in [0, 999999999]"},
    {"TimeoutOutOfRange", Timeout(315576000001, 0), "timeout", kT, "out of range"},
    // max_attempts
    {"MaxAttemptsGatewayDefault", MaxAttempts(0), "", "", ""},
    {"MaxAttemptsNoRetries", MaxAttempts(1), "", "", ""},
    {"MaxAttemptsLarge", MaxAttempts(1000000), "", "", ""},
    {"MaxAttemptsNegative", MaxAttempts(-1), "max_attempts", "INVALID_MAX_ATTEMPTS", "must not be negative"},
    {"MaxAttemptsMinInt", MaxAttempts(INT32_MIN), "max_attempts", "INVALID_MAX_ATTEMPTS", "must not be negative"},
    // the first violation wins, in field order
    {"MethodBeforePath", All({Method("BREW"), Path("/../x")}), "method", "INVALID_METHOD", "unsupported method"},
    {"PathBeforeHeaders", All({Path("/%2e%2e"), Header("Host", "x")}), "path", "INVALID_PATH", "\"..\" segments are not allowed"},
    {"HeadersBeforeBody", All({Header("Bad Name", "x"), Text("{}")}), kName, kH, "HTTP token"},
    {"BodyBeforeCredentials", All({Text("{}"), Private("")}), "text", kB, "must be empty for GET"},
    {"CredentialsBeforeSudo", All({Private(""), Sudo("a\nb")}), "credentials.private_token", kC, "must not be empty"},
    {"SudoBeforeTimeout", All({Sudo("a\nb"), Timeout(0, 0)}), "sudo", kS, "control characters"},
    {"TimeoutBeforeMaxAttempts", All({Timeout(0, 0), MaxAttempts(-2)}), "timeout", kT, "must be positive"},
}), RowName);
// clang-format on

}  // namespace
}  // namespace gitlab_gateway::gitlab
