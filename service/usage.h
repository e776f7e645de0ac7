#ifndef GITLAB_GATEWAY_SERVICE_USAGE_H_
#define GITLAB_GATEWAY_SERVICE_USAGE_H_

// What `gitlab-gateway --help` and `--version` print. Main thread, once,
// before absl::ParseCommandLine (which acts on absl's help flags).
//
//   --help      the gateway's own flags (those declared under service/) by
//               topic (Serving, GitLab, Timeouts, ...), with their defaults
//               and env variables; a flag not placed in a topic yet is
//               listed under "Other". --helpfull lists gRPC's and absl's too.
//   --version   "gitlab-gateway 0.1.0 (commit 0123456789ab)"

#include <string>

namespace gitlab_gateway {

// The --version line, without a newline.
std::string VersionLine();

// The --help text.
std::string GroupedHelp();

// Sets absl's usage config (--version, --helpfull, --help=SUBSTRING) and
// answers a plain --help itself: prints GroupedHelp() and exits 0.
void ConfigureUsage(int argc, char** argv);

}  // namespace gitlab_gateway

#endif  // GITLAB_GATEWAY_SERVICE_USAGE_H_
