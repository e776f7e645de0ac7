#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_TLS_CHANNEL_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_TLS_CHANNEL_H_

// gRPC channels to a TLS server on 127.0.0.1 for tests (header only: the
// test binaries that use it link gRPC). Any thread.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/support/test_certs.h"

namespace gitlab_gateway::testing {

// A channel of its own (a local subchannel pool: it never shares a
// connection with another channel, so "a new channel" means "a new TLS
// handshake") trusting `ca_file`, presenting `client` when given.
inline std::shared_ptr<grpc::Channel> TlsChannel(
    int port, const std::string& ca_file, const CertFiles* client = nullptr) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadWholeFile(ca_file);
  if (client != nullptr) {
    options.pem_private_key = ReadWholeFile(client->key);
    options.pem_cert_chain = ReadWholeFile(client->cert);
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::SslCredentials(options), args);
}

// A plaintext channel of its own.
inline std::shared_ptr<grpc::Channel> PlainChannel(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_TLS_CHANNEL_H_
