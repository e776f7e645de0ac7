// Policy paths: matched on decoded segments, so encodings cannot escape.
#include "service/auth/path_pattern.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::auth {
namespace {

using ::testing::ElementsAre;

bool Match(const char* pattern, const char* path) {
  absl::StatusOr<PathPattern> compiled = PathPattern::Compile(pattern);
  EXPECT_TRUE(compiled.ok()) << pattern << ": " << compiled.status();
  auto segments = DecodedSegments(path);
  return segments.has_value() && compiled->Matches(*segments);
}

TEST(DecodedSegmentsTest, SplitsAtRawSlashesAndDecodes) {
  EXPECT_THAT(*DecodedSegments("/projects/group%2Fdemo/issues"),
              ElementsAre("projects", "group/demo", "issues"));
  EXPECT_THAT(*DecodedSegments("/users/"), ElementsAre("users"));
  EXPECT_TRUE(DecodedSegments("/")->empty());
}

TEST(DecodedSegmentsTest, DotsEmptySegmentsAndBadEscapesMatchNothing) {
  for (const char* path :
       {"/projects/7/../8", "/projects/%2e%2e/x", "/projects/%2E./x",
        "/projects/7%2F..%2F8/issues", "/projects/7%5C..%5C8", "/a/./b",
        "/a//b", "/a/%zz", "/a/%2", "/a/%00", "a/b", ""}) {
    EXPECT_FALSE(DecodedSegments(path).has_value()) << path;
  }
}

TEST(PathPatternTest, TemplatesMatchOneSegmentPerPlaceholder) {
  EXPECT_TRUE(Match("/projects/:id/issues", "/projects/7/issues"));
  EXPECT_TRUE(Match("/projects/:id/issues", "/projects/group%2Fdemo/issues"));
  EXPECT_FALSE(Match("/projects/:id/issues", "/projects/7/issues/3"));
  EXPECT_FALSE(Match("/projects/:id/issues", "/projects/issues"));
  EXPECT_FALSE(Match("/projects/:id/issues", "/projects/7/merge_requests"));
}

TEST(PathPatternTest, FinalStarIsAPrefixOnSegments) {
  EXPECT_TRUE(Match("/projects/:id/issues/*", "/projects/7/issues"));
  EXPECT_TRUE(Match("/projects/:id/issues/*", "/projects/7/issues/3/notes"));
  EXPECT_FALSE(Match("/projects/:id/issues/*", "/projects/7/issues_x"));
  EXPECT_FALSE(Match("/projects/7/*", "/projects/70/issues"));
}

TEST(PathPatternTest, EncodingTricksCannotEscapeAPrefix) {
  // Literal segments compare decoded: %2F stays inside its segment.
  EXPECT_FALSE(Match("/projects/7/*", "/projects/7%2F..%2F8/issues"));
  EXPECT_FALSE(Match("/projects/7/*", "/projects/7/..%2F..%2Fadmin"));
  EXPECT_FALSE(Match("/projects/7/*", "/projects/7/%2e%2e/%2e%2e/users"));
  EXPECT_FALSE(Match("/projects/7/*", "/projects/%37%2F..%2F8"));
  // The same project in another spelling is the same segment.
  EXPECT_TRUE(Match("/projects/a%2Fb/*", "/projects/a%2fb/issues"));
  EXPECT_TRUE(Match("/projects/7/*", "/projects/%37/issues"));
  EXPECT_FALSE(Match("/projects/a%2Fb/*", "/projects/a/b/issues"));
}

TEST(PathPatternTest, BadPatternsAreRefused) {
  for (const char* pattern :
       {"", "projects", "/a/*/b", "/a*", "/a/../b", "/a//b", "/a/%zz"}) {
    EXPECT_FALSE(PathPattern::Compile(pattern).ok()) << pattern;
  }
}

}  // namespace
}  // namespace gitlab_gateway::auth
