#ifndef GITLAB_GATEWAY_CLIENT_TLS_H_
#define GITLAB_GATEWAY_CLIENT_TLS_H_

// How a client proves the gateway is the gateway, and itself to it.
//
//   TlsFiles tls{.ca_file = "/etc/gateway/ca.crt",
//                .cert_file = "/etc/tls/tls.crt",
//                .key_file = "/etc/tls/tls.key"};
//   absl::StatusOr<Client> client = Client::Tls("gateway:50051", tls,
//       {.caller_token = *ReadCallerToken("/var/run/secrets/gateway-token")});
//
// Pure functions over files; any thread.

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace gitlab_gateway::client {

// PEM files for a TLS channel to the gateway.
struct TlsFiles {
  // The CAs that may sign the gateway's certificate; empty: the system's.
  std::string ca_file;
  // A client certificate and its key, for a gateway that requires them
  // (mTLS, --tls_client_ca_file); both or neither.
  std::string cert_file;
  std::string key_file;
};

// TLS channel credentials from `tls`, or an error naming the file that
// cannot be read (never its content).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const TlsFiles& tls);

// A caller token file's secret: its content without surrounding
// whitespace (a trailing newline is common). Errors name the path only.
absl::StatusOr<std::string> ReadCallerToken(const std::string& path);

}  // namespace gitlab_gateway::client

#endif  // GITLAB_GATEWAY_CLIENT_TLS_H_
