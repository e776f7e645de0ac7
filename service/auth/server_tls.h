#ifndef GITLAB_GATEWAY_SERVICE_AUTH_SERVER_TLS_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_SERVER_TLS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace gitlab_gateway::auth {

// The gRPC port's TLS: --tls_cert_file, --tls_key_file and, for mTLS,
// --tls_client_ca_file. Plain value.
struct TlsOptions {
  std::string cert_file;  // PEM chain, leaf first; empty: plaintext
  std::string key_file;   // PEM private key of the leaf
  // PEM bundle of the CAs whose client certificates are accepted; set, a
  // client without a certificate signed by one of them fails the handshake.
  std::string client_ca_file;
  // How often gRPC re-reads the files: a renewed certificate (cert-manager
  // writes a new Secret; the kubelet swaps the mounted files) serves new
  // handshakes within this time, without a restart; connections already
  // established keep theirs. Whole seconds, at least 1.
  absl::Duration refresh = absl::Minutes(1);

  bool enabled() const { return !cert_file.empty(); }
};

// Checks the files now, so a broken deployment fails at start naming the
// flag (unreadable, not PEM, key not matching the certificate, empty CA
// bundle), then returns gRPC TLS server credentials on a
// grpc::experimental::FileWatcherCertificateProvider over the same files.
// A rotation that writes a bad file leaves gRPC serving the last good pair.
// Any thread.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options);

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_SERVER_TLS_H_
