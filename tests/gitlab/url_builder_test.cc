#include "service/gitlab/url_builder.h"

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

auto RowName = [](const auto& info) { return info.param.name; };

using Params = std::vector<std::pair<std::string, std::string>>;

google::protobuf::RepeatedPtrField<v1::Param> Query(const Params& params) {
  google::protobuf::RepeatedPtrField<v1::Param> query;
  for (const auto& [key, value] : params) {
    v1::Param* p = query.Add();
    p->set_key(key);
    p->set_value(value);
  }
  return query;
}

// ---------------------------------------------------------------- ParseBaseUrl

struct BaseUrlRow {
  std::string name;
  std::string url;
  // Accepted: the parsed fields. Refused: `error` is a message substring.
  std::string scheme, host;
  int port;
  std::string prefix, origin;
  std::string error;
};

void PrintTo(const BaseUrlRow& row, std::ostream* os) { *os << row.name; }

class ParseBaseUrlTest : public testing::TestWithParam<BaseUrlRow> {};

TEST_P(ParseBaseUrlTest, Row) {
  const BaseUrlRow& row = GetParam();
  absl::StatusOr<BaseUrl> got = ParseBaseUrl(row.url);
  if (!row.error.empty()) {
    ASSERT_FALSE(got.ok()) << got->origin;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(), HasSubstr(row.error));
    // A misconfigured URL may carry a password: never echo it.
    EXPECT_THAT(got.status().message(), Not(HasSubstr("s3cr3t")));
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->scheme, row.scheme);
  EXPECT_EQ(got->host, row.host);
  EXPECT_EQ(got->port, row.port);
  EXPECT_EQ(got->prefix, row.prefix);
  EXPECT_EQ(got->origin, row.origin);
}

BaseUrlRow Ok(std::string name, std::string url, std::string scheme,
              std::string host, int port, std::string prefix,
              std::string origin) {
  return {std::move(name),
          std::move(url),
          std::move(scheme),
          std::move(host),
          port,
          std::move(prefix),
          std::move(origin),
          ""};
}

BaseUrlRow Err(std::string name, std::string url, std::string error) {
  return {std::move(name), std::move(url), "", "", 0, "", "", std::move(error)};
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ParseBaseUrlTest,
    testing::ValuesIn(std::vector<BaseUrlRow>{
        Ok("GitlabCom", "https://gitlab.com", "https", "gitlab.com", 443, "",
           "https://gitlab.com"),
        Ok("TrailingSlash", "https://gitlab.com/", "https", "gitlab.com", 443,
           "", "https://gitlab.com"),
        Ok("HttpWithPort", "http://127.0.0.1:8080", "http", "127.0.0.1", 8080,
           "", "http://127.0.0.1:8080"),
        Ok("HttpDefaultPort", "http://gitlab.local", "http", "gitlab.local", 80,
           "", "http://gitlab.local"),
        Ok("ExplicitDefaultPortOmitted", "https://gitlab.com:443", "https",
           "gitlab.com", 443, "", "https://gitlab.com"),
        Ok("HttpsOn80KeepsPort", "https://h:80", "https", "h", 80, "",
           "https://h:80"),
        Ok("Prefix", "https://host/gitlab/", "https", "host", 443, "/gitlab",
           "https://host"),
        Ok("PrefixNoSlash", "https://host/gitlab", "https", "host", 443,
           "/gitlab", "https://host"),
        Ok("DeepPrefix", "https://host:8443/a/b//", "https", "host", 8443,
           "/a/b", "https://host:8443"),
        Ok("Ipv6WithPort", "http://[::1]:8080", "http", "[::1]", 8080, "",
           "http://[::1]:8080"),
        Ok("Ipv6NoPort", "https://[2001:DB8::1]/gl", "https", "[2001:db8::1]",
           443, "/gl", "https://[2001:db8::1]"),
        Ok("UppercaseSchemeAndHost", "HTTPS://GitLab.Example.COM", "https",
           "gitlab.example.com", 443, "", "https://gitlab.example.com"),
        Ok("MaxPort", "http://h:65535", "http", "h", 65535, "",
           "http://h:65535"),
        Err("Empty", "", "must not be empty"),
        Err("NoScheme", "gitlab.com", "must start with http:// or https://"),
        Err("Ftp", "ftp://gitlab.com", "scheme must be http or https"),
        Err("File", "file:///etc/passwd", "scheme must be http or https"),
        Err("Query", "https://gitlab.com/?x=1", "query or fragment"),
        Err("Fragment", "https://gitlab.com/#x", "query or fragment"),
        Err("Userinfo", "https://bot:s3cr3t@gitlab.com", "userinfo"),
        Err("UserinfoAfterPath", "https://bot:s3cr3t@gitlab.com/gl",
            "userinfo"),
        Err("NoHost", "https://", "must name a host"),
        Err("NoHostWithPath", "https:///gitlab", "must name a host"),
        Err("PortOnly", "https://:8080", "must name a host"),
        Err("EmptyPort", "https://host:", "port must be"),
        Err("PortZero", "https://host:0", "port must be"),
        Err("PortTooBig", "https://host:65536", "port must be"),
        Err("PortNotNumber", "https://host:http", "port must be"),
        Err("PortSigned", "https://host:+80", "port must be"),
        Err("BareIpv6", "http://::1:8080", "brackets"),
        Err("UnclosedIpv6", "http://[::1:8080", "unterminated IPv6"),
        Err("BadIpv6", "http://[zz::1]", "invalid IPv6"),
        Err("EmptyIpv6", "http://[]", "invalid IPv6"),
        Err("JunkAfterIpv6", "http://[::1]x", "after the IPv6 literal"),
        Err("HostBackslash", "http://a\\b", "invalid character"),
        Err("Space", "https://git lab.com", "whitespace"),
        Err("Newline", "https://gitlab.com\n", "whitespace"),
        Err("DotSegment", "https://host/a/../b", "\"..\" segments"),
        // Found by tests/fuzz/request_fuzzer: servers may decode these.
        Err("EncodedDotSegment", "https://host/%2E", "\".\" segments"),
        Err("EncodedDotDotAfterEncodedSlash", "https://host/a%2F%2e%2E",
            "\"..\" segments"),
        Err("BadPercentEscape", "https://host/a%zz", "invalid percent escape"),
        Ok("EncodedLetterKept", "https://host/%41pps", "https", "host", 443,
           "/%41pps", "https://host"),
        Err("InnerEmptySegment", "https://host/a//b", "\"//\""),
        Err("ApiV4", "https://gitlab.com/api/v4", "without /api/v4"),
        Err("ApiV4Slash", "https://host/gl/API/v4/", "without /api/v4"),
    }),
    RowName);

// ----------------------------------------------------------------
// PercentEncode

struct EncodeRow {
  std::string name;
  std::string in;
  std::string want;
};

void PrintTo(const EncodeRow& row, std::ostream* os) { *os << row.name; }

class PercentEncodeTest : public testing::TestWithParam<EncodeRow> {};

TEST_P(PercentEncodeTest, Row) {
  EXPECT_EQ(PercentEncode(GetParam().in), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Rows, PercentEncodeTest,
                         testing::ValuesIn(std::vector<EncodeRow>{
                             {"Empty", "", ""},
                             {"Unreserved", "AZaz09-._~", "AZaz09-._~"},
                             {"Plus", "a+b", "a%2Bb"},
                             {"Space", "a b", "a%20b"},
                             {"Slash", "group/demo", "group%2Fdemo"},
                             {"Percent", "100%", "100%25"},
                             {"QueryDelimiters", "a=b&c", "a%3Db%26c"},
                             {"Hash", "#1", "%231"},
                             {"Brackets", "labels[]", "labels%5B%5D"},
                             {"CrLf", "a\r\nb", "a%0D%0Ab"},
                             {"Nul", std::string("a\0b", 3), "a%00b"},
                             {"Utf8", "gr\xC3\xBCn", "gr%C3%BCn"},
                             {"Emoji", "\xF0\x9F\x9A\x80", "%F0%9F%9A%80"},
                             {"HighByte", "\xFF", "%FF"},
                             {"SubDelims", "!$'()*,;:@",
                              "%21%24%27%28%29%2A%2C%3B%3A%40"},
                         }),
                         RowName);

// ---------------------------------------------------------------- BuildQuery

struct QueryRow {
  std::string name;
  Params params;
  std::string want;
};

void PrintTo(const QueryRow& row, std::ostream* os) { *os << row.name; }

class BuildQueryTest : public testing::TestWithParam<QueryRow> {};

TEST_P(BuildQueryTest, Row) {
  EXPECT_EQ(BuildQuery(Query(GetParam().params)), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BuildQueryTest,
    testing::ValuesIn(std::vector<QueryRow>{
        {"Empty", {}, ""},
        {"One", {{"per_page", "100"}}, "per_page=100"},
        {"OrderKept", {{"b", "2"}, {"a", "1"}}, "b=2&a=1"},
        {"RepeatsKept",
         {{"labels[]", "bug"}, {"labels[]", "p1"}},
         "labels%5B%5D=bug&labels%5B%5D=p1"},
        {"EmptyValue", {{"search", ""}}, "search="},
        {"PlusInValue", {{"search", "c++"}}, "search=c%2B%2B"},
        {"SpaceInValue", {{"search", "a b"}}, "search=a%20b"},
        {"DelimitersInKeyAndValue", {{"a&b", "c=d"}}, "a%26b=c%3Dd"},
        {"CrLfEncoded", {{"x", "1\r\nHost: evil"}}, "x=1%0D%0AHost%3A%20evil"},
        {"Utf8Value", {{"title", "gr\xC3\xBCn"}}, "title=gr%C3%BCn"},
    }),
    RowName);

// ---------------------------------------------------------------- URLs

struct UrlRow {
  std::string name;
  std::string base;
  std::string path;
  Params params;
  std::string want_rest;
  std::string want_graphql;
};

void PrintTo(const UrlRow& row, std::ostream* os) { *os << row.name; }

class BuildUrlTest : public testing::TestWithParam<UrlRow> {};

TEST_P(BuildUrlTest, Row) {
  const UrlRow& row = GetParam();
  absl::StatusOr<BaseUrl> base = ParseBaseUrl(row.base);
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(BuildRestUrl(*base, row.path, Query(row.params)), row.want_rest);
  EXPECT_EQ(BuildGraphqlUrl(*base), row.want_graphql);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BuildUrlTest,
    testing::ValuesIn(std::vector<UrlRow>{
        {"NoQuery",
         "https://gitlab.com",
         "/projects",
         {},
         "https://gitlab.com/api/v4/projects",
         "https://gitlab.com/api/graphql"},
        {"EncodedSlashKept",
         "https://gitlab.com",
         "/projects/group%2Fdemo/issues",
         {},
         "https://gitlab.com/api/v4/projects/group%2Fdemo/issues",
         "https://gitlab.com/api/graphql"},
        {"PathBytesUntouched",
         "https://gitlab.com",
         "/projects/1/repository/files/a%2fb%2Ec/raw",
         {},
         "https://gitlab.com/api/v4/projects/1/repository/files/a%2fb%2Ec/raw",
         "https://gitlab.com/api/graphql"},
        {"WithQuery",
         "https://gitlab.com",
         "/projects",
         {{"per_page", "100"}, {"search", "a+b"}},
         "https://gitlab.com/api/v4/projects?per_page=100&search=a%2Bb",
         "https://gitlab.com/api/graphql"},
        {"Prefix",
         "https://host/gitlab/",
         "/version",
         {},
         "https://host/gitlab/api/v4/version",
         "https://host/gitlab/api/graphql"},
        {"PortAndPrefix",
         "http://127.0.0.1:8080/gl",
         "/users/1",
         {{"with_custom_attributes", "true"}},
         "http://127.0.0.1:8080/gl/api/v4/users/1?with_custom_attributes=true",
         "http://127.0.0.1:8080/gl/api/graphql"},
        {"Ipv6",
         "http://[::1]:8080",
         "/projects",
         {},
         "http://[::1]:8080/api/v4/projects",
         "http://[::1]:8080/api/graphql"},
        {"DefaultPortOmitted",
         "https://gitlab.com:443/",
         "/user",
         {},
         "https://gitlab.com/api/v4/user",
         "https://gitlab.com/api/graphql"},
    }),
    RowName);

}  // namespace
}  // namespace gitlab_gateway::gitlab
