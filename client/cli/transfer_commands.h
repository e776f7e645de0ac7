#ifndef GITLAB_GATEWAY_CLIENT_CLI_TRANSFER_COMMANDS_H_
#define GITLAB_GATEWAY_CLIENT_CLI_TRANSFER_COMMANDS_H_

#include "client/cli/cli_args.h"
#include "client/cli/commands.h"

// The commands that stream bodies: get and download (Download), upload
// (Upload). Called once, from main's thread.

namespace gitlab_gateway::cli {

// get PATH: the body through Download; a JSON answer (up to 64 MiB) is
// pretty-printed unless --raw, anything else streams to stdout as received.
int RunGet(const CliArgs& args, Io io);
// download PATH [-o FILE]: the body as received, to FILE or stdout.
int RunDownload(const CliArgs& args, Io io);
// upload PATH -i FILE [--post]: FILE ("-": stdin) as the body.
int RunUpload(const CliArgs& args, Io io);

}  // namespace gitlab_gateway::cli

#endif  // GITLAB_GATEWAY_CLIENT_CLI_TRANSFER_COMMANDS_H_
