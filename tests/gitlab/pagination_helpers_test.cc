// ResolveNextLink, CountJsonArrayItems and MapGraphqlErrors, row by row.
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "service/gitlab/error_body.h"
#include "service/gitlab/response_body.h"
#include "service/gitlab/status_mapping.h"
#include "service/gitlab/url_builder.h"
#include "tests/support/status_matchers.h"

namespace gitlab_gateway::gitlab {
namespace {

using ::gitlab_gateway::testing::OnlyDetail;

TEST(ResolveNextLinkTest, AcceptsOnlyTheConfiguredOriginAndApiRoot) {
  BaseUrl base = *ParseBaseUrl("https://gitlab.example/gitlab");
  struct Row {
    const char* link;
    bool ok;
  } rows[] = {
      {"https://gitlab.example/gitlab/api/v4/projects?id_after=5&pagination=keyset", true},
      {"https://gitlab.example/gitlab/api/v4/projects/1/jobs?cursor=eyJpZCI6%3D", true},
      {"https://evil.example/gitlab/api/v4/projects?id_after=5", false},
      {"http://gitlab.example/gitlab/api/v4/projects", false},
      {"https://gitlab.example/api/v4/projects", false},
      {"https://gitlab.example/gitlab/api/v4/", false},
      {"https://gitlab.example/gitlab/api/v4/../../admin", false},
      {"https://gitlab.example/gitlab/api/v4/projects#frag", false},
      {"https://gitlab.example/gitlab/api/v4/projects?a=1 b", false},
      {"https://gitlab.example.evil/gitlab/api/v4/projects", false},
      {"", false},
  };
  for (const Row& row : rows) {
    absl::StatusOr<std::string> url = ResolveNextLink(base, row.link);
    EXPECT_EQ(url.ok(), row.ok) << row.link;
    if (row.ok) EXPECT_EQ(*url, row.link);  // byte for byte
  }
}

TEST(CountJsonArrayItemsTest, CountsTopLevelElements) {
  struct Row {
    const char* body;
    std::optional<int64_t> want;
  } rows[] = {
      {"[]", 0},
      {" [ ] ", 0},
      {R"([{"a":[1,2,{"b":"],["}]}])", 1},
      {R"([{"a":1},{"b":"x,y"},3])", 3},
      {R"(["a\"]", "b"])", 2},
      {R"({"message":"x"})", std::nullopt},
      {"[1,2", std::nullopt},
      {"", std::nullopt},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(CountJsonArrayItems(row.body), row.want) << row.body;
  }
}

TEST(MapGraphqlErrorsTest, OkWithoutErrorsAndDetailedWithThem) {
  std::vector<std::pair<std::string, std::string>> headers;
  UpstreamAnswer answer{200, headers, R"({"data":{"x":1}})", "application/json",
                        "/api/graphql", absl::Now(), 1};
  EXPECT_TRUE(MapGraphqlErrors("gitlab.example", answer).ok());
  answer.body = R"({"errors":[]})";
  EXPECT_TRUE(MapGraphqlErrors("gitlab.example", answer).ok());
  answer.body = "not json";
  EXPECT_TRUE(MapGraphqlErrors("gitlab.example", answer).ok());
  answer.body = R"({"errors":[{"message":"a"},{"message":"b","path":["q",0]}]})";
  grpc::Status status = MapGraphqlErrors("gitlab.example", answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("a; b"));
  google::rpc::BadRequest bad =
      OnlyDetail<google::rpc::BadRequest>(ToRpcStatus(status));
  ASSERT_EQ(bad.field_violations_size(), 2);
  EXPECT_EQ(bad.field_violations(0).field(), "query");
  EXPECT_EQ(bad.field_violations(1).field(), "query.q.0");
}

TEST(MapGraphqlErrorsTest, OnlyTopLevelErrorsCount) {
  std::vector<std::pair<std::string, std::string>> headers;
  UpstreamAnswer answer{200, headers, R"({"data":{"errors":[{"message":"no"}]}})",
                        "application/json", "/api/graphql", absl::Now(), 1};
  EXPECT_TRUE(MapGraphqlErrors("gitlab.example", answer).ok());
  // Data GitLab sent in full, errors after it: found without parsing data.
  std::string body = R"({"data":{"blob":")" + std::string(4 << 20, 'x') +
                     R"("},"errors":[{"message":"too complex"}]})";
  answer.body = body;
  grpc::Status status = MapGraphqlErrors("gitlab.example", answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("too complex"));
}

TEST(MapGraphqlErrorsTest, ErrorsTooLongToParseAreReportedBySize) {
  std::string errors = "[";
  while (errors.size() <= kMaxParsedErrorBodyBytes) {
    errors += R"({"message":"field x is deprecated"},)";
  }
  errors.back() = ']';
  std::string body = R"({"errors":)" + errors + "}";
  std::vector<std::pair<std::string, std::string>> headers;
  UpstreamAnswer answer{200, headers, body, "application/json", "/api/graphql",
                        absl::Now(), 1};
  grpc::Status status = MapGraphqlErrors("gitlab.example", answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              ::testing::HasSubstr(std::to_string(errors.size()) +
                                   " bytes of GraphQL errors"));
  google::rpc::BadRequest bad =
      OnlyDetail<google::rpc::BadRequest>(ToRpcStatus(status));
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "query");
  EXPECT_LE((status.error_details().size() + 2) / 3 * 4, kMaxErrorTrailerBytes);
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
