#include "service/gitlab/route_template.h"

#include <initializer_list>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "service/gitlab/route_catalog.h"

namespace gitlab_gateway::gitlab {
namespace {

// GitLab REST resource and action words (doc/api/rest). Only words: anything
// a caller chooses (ids, paths, names, refs) must never be kept.
const absl::flat_hash_set<absl::string_view>& Vocabulary() {
  static const auto* const kWords = new absl::flat_hash_set<absl::string_view>({
      // Top-level collections.
      "projects",
      "groups",
      "users",
      "user",
      "issues",
      "merge_requests",
      "namespaces",
      "snippets",
      "events",
      "runners",
      "keys",
      "search",
      "todos",
      "application",
      "applications",
      "metadata",
      "version",
      "personal_access_tokens",
      "audit_events",
      "broadcast_messages",
      "features",
      "settings",
      "sidekiq",
      "topics",
      "templates",
      "licenses",
      "license",
      "markdown",
      "ci",
      "lint",
      "bulk_imports",
      "geo",
      "hooks",
      "deploy_keys",
      "deploy_tokens",
      "import",
      "export",
      "avatar",
      "emails",
      "gpg_keys",
      "status",
      "activities",
      "memberships",
      "impersonation_tokens",
      "custom_attributes",
      "admin",
      "usage_data",
      // Project and group resources.
      "members",
      "all",
      "access_requests",
      "access_tokens",
      "labels",
      "milestones",
      "releases",
      "links",
      "assets",
      "variables",
      "deployments",
      "environments",
      "protected_environments",
      "registry",
      "repositories",
      "packages",
      "generic",
      "npm",
      "maven",
      "pypi",
      "nuget",
      "composer",
      "conan",
      "helm",
      "wikis",
      "boards",
      "lists",
      "epics",
      "subgroups",
      "descendant_groups",
      "shared",
      "share",
      "transfer",
      "badges",
      "services",
      "integrations",
      "issues_statistics",
      "merge_trains",
      "feature_flags",
      "freeze_periods",
      "clusters",
      "pipeline_schedules",
      "triggers",
      "trigger",
      "protected_branches",
      "protected_tags",
      "starrers",
      "forks",
      "fork",
      "star",
      "unstar",
      "languages",
      "housekeeping",
      "uploads",
      "statistics",
      "archive",
      "unarchive",
      "issue_links",
      "notification_settings",
      "iterations",
      // Issues, merge requests and their children.
      "notes",
      "discussions",
      "award_emoji",
      "time_stats",
      "participants",
      "subscribe",
      "unsubscribe",
      "approvals",
      "approval_rules",
      "approval_state",
      "approve",
      "unapprove",
      "merge",
      "rebase",
      "changes",
      "diffs",
      "versions",
      "commits",
      "closes_issues",
      "related_merge_requests",
      "closed_by",
      "resource_label_events",
      "resource_state_events",
      "resource_milestone_events",
      "add_spent_time",
      "reset_spent_time",
      "time_estimate",
      "reset_time_estimate",
      "move",
      "clone",
      "reorder",
      "merge_ref",
      "cancel_merge_when_pipeline_succeeds",
      // CI.
      "pipelines",
      "pipeline",
      "jobs",
      "bridges",
      "artifacts",
      "download",
      "trace",
      "retry",
      "cancel",
      "play",
      "erase",
      "keep",
      "test_report",
      "test_report_summary",
      "latest",
      "schedules",
      // Repository.
      "repository",
      "files",
      "raw",
      "blame",
      "tree",
      "branches",
      "tags",
      "compare",
      "contributors",
      "blobs",
      "diff",
      "refs",
      "statuses",
      "comments",
      "merge_base",
      "cherry_pick",
      "revert",
      "signature",
      "changelog",
      "merged_branches",
      "submodules",
      "archive.zip",
      "archive.tar.gz",
      "archive.tar.bz2",
      "archive.tar",
  });
  return *kWords;
}

bool IsOneOf(absl::string_view s,
             std::initializer_list<absl::string_view> set) {
  for (absl::string_view candidate : set) {
    if (s == candidate) return true;
  }
  return false;
}

// The label for `segment`, given the labels chosen before it.
absl::string_view Classify(const std::vector<absl::string_view>& before,
                           absl::string_view segment) {
  const size_t n = before.size();
  if (n >= 2 && before[n - 2] == "repository") {
    if (before[n - 1] == "files") return ":file_path";
    if (before[n - 1] == "branches") return ":branch";
    if (before[n - 1] == "tags") return ":tag_name";
    if (before[n - 1] == "commits") return ":sha";
  }
  if (n >= 3 && IsOneOf(before[n - 1], {"issues", "merge_requests", "epics"}) &&
      before[n - 2] == ":id" &&
      IsOneOf(before[n - 3], {"projects", "groups"})) {
    return ":iid";
  }
  if (Vocabulary().contains(segment)) return segment;
  return ":id";
}

}  // namespace

std::string RouteTemplate(absl::string_view path) {
  std::optional<absl::string_view> documented =
      RouteCatalog::Documented().Match(path);
  if (documented.has_value()) return std::string(*documented);
  return GenericRouteTemplate(path);
}

std::string GenericRouteTemplate(absl::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  std::vector<absl::string_view> labels;
  bool truncated = false;
  for (absl::string_view segment :
       absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (labels.size() == kMaxRouteSegments) {
      truncated = true;
      break;
    }
    labels.push_back(Classify(labels, segment));
  }
  if (labels.empty()) return "/";
  std::string out = absl::StrCat("/", absl::StrJoin(labels, "/"));
  if (truncated) out += "/...";
  return out;
}

}  // namespace gitlab_gateway::gitlab
