#include "service/usage.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "service/version.h"

namespace gitlab_gateway {

std::string VersionLine() {
  return absl::StrCat("gitlab-gateway ", GG_VERSION, " (commit ", GG_GIT_COMMIT,
                      ")");
}

namespace {

constexpr absl::string_view kUsage =
    "a gRPC gateway to the GitLab API.\n\n"
    "  gitlab-gateway [--flag=value ...] [--flagfile=FILE]\n\n"
    "Every flag also reads the environment variable named in its help; an\n"
    "explicit flag wins. --flagfile=FILE reads flags from FILE, one\n"
    "--flag=value per line (the config file; see README: Configuration).";

// The groups --help shows, in order. A gateway flag missing here is listed
// under "Other" (never hidden), so a new flag shows before it is placed.
struct Group {
  const char* title;
  std::vector<const char*> flags;
};
const std::vector<Group>& Groups() {
  static const auto* groups = new std::vector<Group>{
      {"Serving", {"listen", "metrics_listen", "shutdown_grace"}},
      {"GitLab",
       {"gitlab_url", "token_file", "token_type", "ca_file",
        "connect_timeout"}},
      {"Timeouts", {"default_timeout", "max_timeout"}},
      {"Load and memory",
       {"max_in_flight", "max_queue", "batch_window", "max_response_mb",
        "stream_budget_mb", "memory_budget_mb", "trim_after_burst",
        "sched_batch"}},
      {"Rate limits", {"rate_limit_per_minute", "rate_limit_burst"}},
      {"Retries",
       {"retry_max_attempts", "retry_base", "retry_cap", "retry_budget_ratio",
        "retry_budget_min"}},
      {"Pagination", {"paginate_max_pages", "paginate_prefetch"}},
  };
  return *groups;
}

// Files that declare the gateway's flags. __FILE__ may be absolute or
// relative (ccache's base dir), so match the path inside the repository.
bool IsGatewayFlagFile(absl::string_view filename) {
  return absl::StrContains(filename, "service/");
}

std::string RepositoryPath(absl::string_view filename) {
  size_t at = filename.rfind("service/");
  return std::string(at == absl::string_view::npos ? filename
                                                   : filename.substr(at));
}

// `text` wrapped at 78 columns, each line indented by `indent`.
std::string Wrap(absl::string_view text, absl::string_view indent) {
  std::string out, line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > 78) {
      absl::StrAppend(&out, indent, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(&out, indent, line, "\n");
  return out;
}

void AppendFlag(const absl::CommandLineFlag& flag, std::string* out) {
  std::string value = flag.DefaultValue();
  if (value.empty()) value = "\"\"";
  absl::StrAppend(out, "  --", flag.Name(), "=", value, "\n",
                  Wrap(flag.Help(), "      "));
}

}  // namespace

std::string GroupedHelp() {
  std::map<std::string, const absl::CommandLineFlag*> gateway;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsGatewayFlagFile(flag->Filename())) gateway[std::string(name)] = flag;
  }
  std::string out = absl::StrCat("gitlab-gateway: ", kUsage, "\n");
  std::set<std::string> shown;
  auto group = [&](const char* title, const std::vector<std::string>& names) {
    if (names.empty()) return;
    absl::StrAppend(&out, "\n", title, ":\n");
    for (const std::string& name : names) {
      AppendFlag(*gateway.at(name), &out);
      shown.insert(name);
    }
  };
  for (const Group& g : Groups()) {
    std::vector<std::string> names;
    for (const char* name : g.flags) {
      if (gateway.count(name) != 0) names.push_back(name);
    }
    group(g.title, names);
  }
  std::vector<std::string> rest;
  for (const auto& [name, flag] : gateway) {
    if (shown.count(name) == 0) rest.push_back(name);
  }
  group("Other", rest);
  absl::StrAppend(&out,
                  "\nAlso: --flagfile=FILE, --version, --help=SUBSTRING, and "
                  "--helpfull\n(every flag, gRPC's and absl's too).\n");
  return out;
}

void ConfigureUsage(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsGatewayFlagFile;
  config.contains_helpshort_flags = IsGatewayFlagFile;
  config.normalize_filename = RepositoryPath;
  config.version_string = [] { return VersionLine() + "\n"; };
  absl::SetFlagsUsageConfig(config);
  // Plain --help (absl's lists one file's flags alphabetically) is ours;
  // --help=SUBSTRING, --helpfull and the rest stay absl's.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "--help") == 0 ||
        std::strcmp(argv[i], "-help") == 0) {
      std::fputs(GroupedHelp().c_str(), stdout);
      std::exit(0);
    }
  }
}

}  // namespace gitlab_gateway
