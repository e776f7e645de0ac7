#ifndef GITLAB_GATEWAY_CLIENT_CLI_COMMANDS_H_
#define GITLAB_GATEWAY_CLIENT_CLI_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "client/cli/cli_args.h"
#include "gitlab_gateway/client/client.h"

namespace gitlab_gateway::cli {

// Exit statuses of gitlab-gateway-cli.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // a call or an item failed
inline constexpr int kExitUsage = 2;   // bad flags or input

// Where a command reads and writes. `progress`: batch may draw a progress
// line on `err` (main sets it when stderr is a terminal).
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool progress = false;
};

// Parses `args` (argv without the program name), runs the command, returns
// the exit status. Called once, from main's thread.
int Run(const std::vector<std::string>& args, const EnvLookup& env, Io io);

// The request a get/post/.../paginate command sends.
::gitlab::gateway::v1::Request BuildRequest(const CliArgs& args);

// Shared by the commands (commands.cc).
// A client whose deadline suits one call or (`stream`) a stream, over TLS
// when --tls / --ca-file / --cert / --key ask; fails when those files cannot
// be used.
absl::StatusOr<client::Client> MakeClient(const CliArgs& args, bool stream);
// Prints the decoded error on `err`; returns kExitFailed.
int Fail(const absl::Status& status, std::ostream& err);
// Fail, plus a hint when a 404 names /projects/group/name unencoded.
int FailWithPathHint(const absl::Status& status, const CliArgs& args,
                     std::ostream& err);
// A file of --ca-file, --cert or --key that cannot be used: prints it;
// returns kExitUsage.
int BadSetup(const absl::Status& status, std::ostream& err);
// Prints a Response as -i/--json/--raw ask.
void PrintResponse(const ::gitlab::gateway::v1::Response& response,
                   const CliArgs& args, std::ostream& out);

}  // namespace gitlab_gateway::cli

#endif  // GITLAB_GATEWAY_CLIENT_CLI_COMMANDS_H_
