#include "service/gitlab/route_template.h"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/gitlab/route_catalog.h"

namespace gitlab_gateway::gitlab {
namespace {

struct RouteRow {
  std::string name;
  std::string path;
  std::string want;
};

void PrintTo(const RouteRow& row, std::ostream* os) { *os << row.name; }

class RouteTemplateTest : public testing::TestWithParam<RouteRow> {};

// The generic classifier, row by row.
TEST_P(RouteTemplateTest, Row) {
  EXPECT_EQ(GenericRouteTemplate(GetParam().path), GetParam().want);
}

// A path the documented catalog does not know gets the generic label; one
// it knows gets GitLab's template.
TEST_P(RouteTemplateTest, CatalogOrGeneric) {
  std::optional<absl::string_view> documented =
      RouteCatalog::Documented().Match(GetParam().path);
  EXPECT_EQ(RouteTemplate(GetParam().path),
            documented.has_value() ? std::string(*documented)
                                   : GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, RouteTemplateTest,
    testing::ValuesIn(std::vector<RouteRow>{
        // Roots.
        {"Empty", "", "/"},
        {"Slash", "/", "/"},
        {"Slashes", "///", "/"},
        // Collections and ids.
        {"Projects", "/projects", "/projects"},
        {"ProjectById", "/projects/42", "/projects/:id"},
        {"ProjectByPath", "/projects/group%2Fdemo", "/projects/:id"},
        {"Users", "/users/42", "/users/:id"},
        {"CurrentUser", "/user", "/user"},
        {"UserKeys", "/user/keys", "/user/keys"},
        {"Version", "/version", "/version"},
        {"Metadata", "/metadata", "/metadata"},
        {"TopLevelIssueIsId", "/issues/42", "/issues/:id"},
        {"Random", "/x-evil-random", "/:id"},
        {"AllRandom", "/a/b/c", "/:id/:id/:id"},
        {"CaseMatters", "/Projects/1", "/:id/:id"},
        {"TrailingSlash", "/projects/1/", "/projects/:id"},
        {"EmptySegmentsSkipped", "/projects//1", "/projects/:id"},
        {"QueryIgnored", "/projects/1?private_token=abc", "/projects/:id"},
        {"FragmentIgnored", "/users/1#x", "/users/:id"},
        {"NoLeadingSlash", "projects/1", "/projects/:id"},
        // :iid after projects/:id or groups/:id.
        {"IssueNotes", "/projects/group%2Fdemo/issues/12/notes",
         "/projects/:id/issues/:iid/notes"},
        {"MergeRequest", "/projects/7/merge_requests/3",
         "/projects/:id/merge_requests/:iid"},
        {"MergeRequestChanges", "/projects/7/merge_requests/3/changes",
         "/projects/:id/merge_requests/:iid/changes"},
        {"MergeRequestDiscussionNote",
         "/projects/7/merge_requests/3/discussions/ab12/notes/9",
         "/projects/:id/merge_requests/:iid/discussions/:id/notes/:id"},
        {"GroupEpic", "/groups/g/epics/5", "/groups/:id/epics/:iid"},
        {"IidSlotEvenForWord", "/projects/1/issues/notes",
         "/projects/:id/issues/:iid"},
        {"GroupIssuesList", "/groups/9/issues", "/groups/:id/issues"},
        {"UserIssuesAreIds", "/users/1/issues/2", "/users/:id/issues/:id"},
        {"WordAsProjectIdNoIid", "/projects/issues/issues/1",
         "/projects/issues/issues/:id"},
        // Repository slots.
        {"FileRaw", "/projects/1/repository/files/src%2Fmain.c/raw",
         "/projects/:id/repository/files/:file_path/raw"},
        {"FileNamedLikeWord", "/projects/1/repository/files/raw",
         "/projects/:id/repository/files/:file_path"},
        {"Branch", "/projects/1/repository/branches/feature%2Fx",
         "/projects/:id/repository/branches/:branch"},
        {"Tag", "/projects/1/repository/tags/v1.2.3",
         "/projects/:id/repository/tags/:tag_name"},
        {"CommitDiff", "/projects/1/repository/commits/abc123/diff",
         "/projects/:id/repository/commits/:sha/diff"},
        {"Tree", "/projects/1/repository/tree",
         "/projects/:id/repository/tree"},
        {"Compare", "/projects/1/repository/compare",
         "/projects/:id/repository/compare"},
        {"ArchiveZip", "/projects/1/repository/archive.zip",
         "/projects/:id/repository/archive.zip"},
        {"FilesWithoutRepository", "/projects/1/files/x",
         "/projects/:id/files/:id"},
        // CI.
        {"JobTrace", "/projects/1/jobs/77/trace",
         "/projects/:id/jobs/:id/trace"},
        {"PipelineJobs", "/projects/1/pipelines/5/jobs",
         "/projects/:id/pipelines/:id/jobs"},
        {"JobRetry", "/projects/1/jobs/77/retry",
         "/projects/:id/jobs/:id/retry"},
        {"ArtifactsByRef", "/projects/1/jobs/artifacts/main/download",
         "/projects/:id/jobs/artifacts/:id/download"},
        // Bounded length.
        {"EightSegments", "/projects/1/merge_requests/2/discussions/3/notes/4",
         "/projects/:id/merge_requests/:iid/discussions/:id/notes/:id"},
        {"NineSegments", "/projects/1/merge_requests/2/discussions/3/notes/4/x",
         "/projects/:id/merge_requests/:iid/discussions/:id/notes/:id/..."},
        {"ManySegments", "/a/b/c/d/e/f/g/h/i/j/k/l/m",
         "/:id/:id/:id/:id/:id/:id/:id/:id/..."},
    }),
    [](const auto& info) { return info.param.name; });

// Whatever callers send, labels come from a small set: ids, paths and
// random strings must never reach a label.
TEST(RouteTemplateCardinalityTest, RandomSegmentsNeverLeak) {
  absl::flat_hash_set<std::string> labels;
  for (int i = 0; i < 1000; ++i) {
    const std::string path =
        absl::StrCat("/projects/", i, "/issues/", i * 7, "/notes/n", i);
    const std::string label = GenericRouteTemplate(path);
    EXPECT_EQ(label.find(absl::StrCat(i * 7)), std::string::npos) << label;
    labels.insert(label);
    labels.insert(GenericRouteTemplate(absl::StrCat("/u", i, "/x", i)));
  }
  EXPECT_EQ(labels.size(), 2u);
  EXPECT_TRUE(labels.contains("/projects/:id/issues/:iid/notes/:id"));
  EXPECT_TRUE(labels.contains("/:id/:id"));
}

// Through RouteTemplate, every label is a catalog template or a generic
// label; random paths outside the catalog never add catalog-looking labels
// and stay as few as the generic classifier makes them.
TEST(RouteTemplateCardinalityTest, CatalogPlusGenericLabels) {
  const RouteCatalog& catalog = RouteCatalog::Documented();
  absl::flat_hash_set<std::string> generic;
  for (int i = 0; i < 1000; ++i) {
    for (const std::string& path :
         {absl::StrCat("/projects/", i, "/no_such_resource/", i),
          absl::StrCat("/x", i, "/y", i, "/z", i),
          absl::StrCat("/projects/", i, "/repository/commits/", i * 31)}) {
      const std::string label = RouteTemplate(path);
      EXPECT_EQ(label.find(absl::StrCat(i * 31)), std::string::npos) << label;
      if (!catalog.Contains(label)) {
        EXPECT_EQ(label, GenericRouteTemplate(path));
        generic.insert(label);
      }
    }
  }
  EXPECT_LE(generic.size(), 3u);
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
