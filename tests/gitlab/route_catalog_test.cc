#include "service/gitlab/route_catalog.h"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/gitlab/route_template.h"

namespace gitlab_gateway::gitlab {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

// One way of filling a template's parameters, as callers do.
struct Instantiation {
  std::string name;
  std::string param;     // a ":name" parameter (one segment)
  std::string wildcard;  // a "*name" wildcard (one or more segments)
};

void PrintTo(const Instantiation& i, std::ostream* os) { *os << i.name; }

// A concrete path for `tmpl`: ":x" (inside a segment too, as in
// ":package_name$:sha") becomes inst.param, "*x" becomes inst.wildcard.
std::string Instantiate(absl::string_view tmpl, const Instantiation& inst) {
  std::vector<std::string> out;
  for (absl::string_view segment : absl::StrSplit(tmpl.substr(1), '/')) {
    if (absl::StartsWith(segment, "*")) {
      out.push_back(inst.wildcard);
      continue;
    }
    std::string filled;
    for (size_t i = 0; i < segment.size();) {
      if (segment[i] != ':') {
        filled.push_back(segment[i++]);
        continue;
      }
      ++i;
      while (i < segment.size() &&
             (absl::ascii_isalnum(segment[i]) || segment[i] == '_')) {
        ++i;
      }
      filled += inst.param;
    }
    out.push_back(filled);
  }
  return absl::StrCat("/", absl::StrJoin(out, "/"));
}

TEST(DocumentedCatalogTest, BuildsEveryTemplate) {
  const RouteCatalog& catalog = RouteCatalog::Documented();
  EXPECT_THAT(catalog.rejected(), IsEmpty());
  EXPECT_GT(catalog.templates().size(), 20u);
}

class DocumentedTemplateTest : public testing::TestWithParam<Instantiation> {};

// Every template of the catalog, filled with ids, URL-encoded paths, refs
// or SHAs, maps back to itself, through the catalog and the label function.
TEST_P(DocumentedTemplateTest, EveryTemplateMapsBackToItself) {
  const RouteCatalog& catalog = RouteCatalog::Documented();
  for (const std::string& tmpl : catalog.templates()) {
    const std::string path = Instantiate(tmpl, GetParam());
    EXPECT_THAT(catalog.Match(path), Optional(absl::string_view(tmpl))) << path;
    EXPECT_EQ(RouteTemplate(path), tmpl) << path;
    EXPECT_EQ(RouteTemplate(absl::StrCat(path, "?ref=main&page=2")), tmpl);
    EXPECT_TRUE(catalog.Contains(tmpl));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Values, DocumentedTemplateTest,
    testing::ValuesIn(std::vector<Instantiation>{
        {"Ids", "42", "7"},
        {"EncodedPaths", "group%2Fsub%2Fdemo", "dir/sub/file.txt"},
        {"Refs", "feature%2Flogin-v1.2.3", "release%2F1.0/notes.md"},
        {"Shas", "0123456789abcdef0123456789abcdef01234567",
         "0123456789abcdef0123456789abcdef01234567/a%2Fb.c"},
    }),
    [](const auto& info) { return info.param.name; });

TEST(DocumentedCatalogTest, UnknownPathsAreNotMatched) {
  const RouteCatalog& catalog = RouteCatalog::Documented();
  EXPECT_EQ(catalog.Match("/x-evil-random"), std::nullopt);
  EXPECT_EQ(catalog.Match(""), std::nullopt);
  EXPECT_EQ(catalog.Match("/"), std::nullopt);
  EXPECT_FALSE(catalog.Contains("/:id"));
  EXPECT_FALSE(catalog.Contains("other"));
}

TEST(RouteCatalogTest, PrefersTheMostLiteralTemplate) {
  const std::vector<absl::string_view> templates = {
      "/projects/:id/jobs/:job_id",
      "/projects/:id/jobs/:job_id/artifacts",
      "/projects/:id/jobs/artifacts/:ref_name/download",
      "/projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path",
  };
  RouteCatalog catalog(templates);
  EXPECT_THAT(catalog.rejected(), IsEmpty());
  EXPECT_THAT(catalog.Match("/projects/1/jobs/77"), Optional(templates[0]));
  EXPECT_THAT(catalog.Match("/projects/1/jobs/77/artifacts"),
              Optional(templates[1]));
  EXPECT_THAT(catalog.Match("/projects/1/jobs/artifacts/main/download"),
              Optional(templates[2]));
  // "artifacts" is also a job id when the literal branch leads nowhere.
  EXPECT_THAT(catalog.Match("/projects/1/jobs/artifacts"),
              Optional(templates[0]));
  EXPECT_THAT(catalog.Match("/projects/1/jobs/artifacts/artifacts"),
              Optional(templates[1]));
}

TEST(RouteCatalogTest, WildcardSpansSegmentsAndLosesToFullMatches) {
  const std::vector<absl::string_view> templates = {
      "/projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path",
      "/projects/:id/jobs/artifacts/:ref_name/raw/index.html",
      "/files/*path",
  };
  RouteCatalog catalog(templates);
  EXPECT_THAT(catalog.Match("/projects/1/jobs/artifacts/main/raw/a"),
              Optional(templates[0]));
  EXPECT_THAT(
      catalog.Match("/projects/g%2Fp/jobs/artifacts/v1/raw/dir/sub/f.txt"),
      Optional(templates[0]));
  EXPECT_THAT(catalog.Match("/projects/1/jobs/artifacts/main/raw/index.html"),
              Optional(templates[1]));
  // A wildcard takes at least one segment.
  EXPECT_EQ(catalog.Match("/projects/1/jobs/artifacts/main/raw"), std::nullopt);
  EXPECT_EQ(catalog.Match("/files"), std::nullopt);
  const std::string deep =
      absl::StrCat("/files", std::string(2000, '/'),
                   absl::StrJoin(std::vector<std::string>(500, "d"), "/"));
  EXPECT_THAT(catalog.Match(deep), Optional(templates[2]));
}

TEST(RouteCatalogTest, ParametersWithLiteralTextAround) {
  const std::vector<absl::string_view> templates = {
      "/group/:id/-/packages/composer/:package_name$:sha",
      "/group/:id/-/packages/composer/p/:sha",
      "/projects/:id/repository/archive.:format",
      "/projects/:id/repository/archive",
      "/templates/:name.json",
      "/templates/:name",
  };
  RouteCatalog catalog(templates);
  EXPECT_THAT(catalog.rejected(), IsEmpty());
  EXPECT_THAT(catalog.Match("/group/1/-/packages/composer/pkg$abc"),
              Optional(templates[0]));
  EXPECT_THAT(catalog.Match("/group/1/-/packages/composer/pkg%24abc"),
              Optional(templates[0]));
  EXPECT_THAT(catalog.Match("/group/1/-/packages/composer/p/abc"),
              Optional(templates[1]));
  EXPECT_EQ(catalog.Match("/group/1/-/packages/composer/$abc"), std::nullopt);
  EXPECT_EQ(catalog.Match("/group/1/-/packages/composer/pkg$"), std::nullopt);
  EXPECT_THAT(catalog.Match("/projects/1/repository/archive.zip"),
              Optional(templates[2]));
  EXPECT_THAT(catalog.Match("/projects/1/repository/archive"),
              Optional(templates[3]));
  EXPECT_THAT(catalog.Match("/templates/x.json"), Optional(templates[4]));
  EXPECT_THAT(catalog.Match("/templates/x.yml"), Optional(templates[5]));
}

TEST(RouteCatalogTest, PathSyntaxLikeGenericClassifier) {
  const std::vector<absl::string_view> templates = {"/projects/:id"};
  RouteCatalog catalog(templates);
  for (absl::string_view path :
       {"/projects/1", "projects/1", "/projects//1/", "/projects/1?x=/a/b",
        "/projects/1#frag", "/projects/group%2Fsub%2Fdemo"}) {
    EXPECT_THAT(catalog.Match(path), Optional(templates[0])) << path;
  }
  EXPECT_EQ(catalog.Match("/projects"), std::nullopt);
  EXPECT_EQ(catalog.Match("/projects/1/x"), std::nullopt);
  EXPECT_EQ(catalog.Match("/Projects/1"), std::nullopt);
}

TEST(RouteCatalogTest, RejectsDuplicateShapesAndMalformedTemplates) {
  const std::vector<absl::string_view> templates = {
      "/projects/:id/issues/:issue_iid",
      "/projects/:project_id/issues/:iid",  // same shape, other names
      "/projects/:id/issues/:issue_iid",    // duplicate
      "projects/:id",                       // no leading slash
      "/projects//x",                       // empty segment
      "/files/*path/raw",                   // wildcard not last
      "/files/*",                           // unnamed wildcard
      "/x/:a:b",                            // adjacent parameters
      "/x/:",                               // unnamed parameter
      "/files/*path",
      "/files/*other",  // second wildcard at one place
  };
  RouteCatalog catalog(templates);
  EXPECT_THAT(catalog.templates(),
              ElementsAre("/projects/:id/issues/:issue_iid", "/files/*path"));
  EXPECT_EQ(catalog.rejected().size(), templates.size() - 2);
  EXPECT_THAT(catalog.Match("/projects/1/issues/2"), Optional(templates[0]));
}

// Many templates whose first parameter segment matches the same value:
// at most kMaxStates partial matches are followed (the most literal ones),
// so the cost per call stays bounded; a less literal template behind them
// is not found (the path then gets a generic label).
TEST(RouteCatalogTest, AmbiguityIsBounded) {
  std::vector<std::string> owned;
  for (int i = 1; i <= 40; ++i) {
    owned.push_back(absl::StrCat("/a/", std::string(i, 'z'), ":p/end", i));
  }
  owned.push_back("/a/:p/b");
  owned.push_back("/a/q/:r");
  std::vector<absl::string_view> templates(owned.begin(), owned.end());
  RouteCatalog catalog(templates);
  ASSERT_THAT(catalog.rejected(), IsEmpty());
  const std::string zs(50, 'z');
  EXPECT_THAT(catalog.Match(absl::StrCat("/a/", zs, "/end35")),
              Optional(absl::string_view(owned[34])));
  EXPECT_EQ(catalog.Match(absl::StrCat("/a/", zs, "/end3")), std::nullopt);
  EXPECT_EQ(catalog.Match(absl::StrCat("/a/", zs, "/b")), std::nullopt);
  EXPECT_THAT(catalog.Match("/a/q/b"), Optional(absl::string_view("/a/q/:r")));
  EXPECT_THAT(catalog.Match("/a/x/b"), Optional(absl::string_view("/a/:p/b")));
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
