#ifndef GITLAB_GATEWAY_CLIENT_CLI_CLI_ARGS_H_
#define GITLAB_GATEWAY_CLIENT_CLI_CLI_ARGS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"

namespace gitlab_gateway::cli {

// The command line of gitlab-gateway-cli, parsed. Plain value type.
struct CliArgs {
  // get, post, put, patch, delete, head, download, upload, batch, paginate,
  // health or help.
  std::string command;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;    // -q k=v
  std::vector<std::pair<std::string, std::string>> headers;  // -H 'N: v'
  std::optional<std::string> data;  // --data, with @file already read
  std::string sudo;
  std::optional<absl::Duration> timeout;           // Request.timeout
  std::optional<absl::Duration> deadline;          // RPC deadline
  ::gitlab::gateway::v1::Credentials credentials;  // flags, else env
  std::string target = "localhost:50051";
  // TLS to the gateway: --tls (system CAs), --ca-file, and for mTLS --cert
  // with --key (paths; the client library reads them).
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // The caller's bearer secret: --caller-token-file's content, else env
  // GITLAB_GATEWAY_CALLER_TOKEN; empty: none.
  std::string caller_token;
  bool include = false;   // -i: status line and headers too
  bool raw = false;       // no pretty-printing
  bool json = false;      // whole Response as protobuf JSON, one per line
  bool graphql = false;   // Api API_GRAPHQL
  int max_pages = 0;      // paginate only
  int64_t max_items = 0;  // paginate only
  bool items = false;     // paginate: one JSON line per item (NDJSON)
  // --project GROUP/NAME: path becomes /projects/GROUP%2FNAME[/PATH].
  std::string project;
  std::string service;                // health: the service name to check
  std::string output;                 // download -o FILE ("" or "-": stdout)
  std::string input;                  // upload -i FILE ("-": stdin)
  std::string upload_method = "PUT";  // upload --post: POST
};

// Reads an environment variable; nullptr when unset. Tests pass a map.
using EnvLookup = std::function<const char*(const char*)>;
// Reads a file named in --data @file ("-" is stdin).
using FileReader =
    std::function<absl::StatusOr<std::string>(const std::string&)>;

// Parses argv[1..]. Errors name the flag and the problem:
// `--timeout: "abc" is not a duration (e.g. 10s, 1m)`.
absl::StatusOr<CliArgs> ParseArgs(const std::vector<std::string>& args,
                                  const EnvLookup& env,
                                  const FileReader& read_file);

// The text `gitlab-gateway-cli help` prints.
const char* UsageText();

}  // namespace gitlab_gateway::cli

#endif  // GITLAB_GATEWAY_CLIENT_CLI_CLI_ARGS_H_
