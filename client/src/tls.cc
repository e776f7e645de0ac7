#include "gitlab_gateway/client/tls.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace gitlab_gateway::client {
namespace {

// Files a client reads are small (PEM, a token): anything larger is a
// mistake, refused rather than read into memory.
constexpr std::streamsize kMaxFileBytes = 1 << 20;

absl::StatusOr<std::string> ReadSmall(const std::string& what,
                                      const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": cannot read ", path));
  }
  std::string content(static_cast<size_t>(kMaxFileBytes) + 1, '\0');
  in.read(content.data(), kMaxFileBytes + 1);
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > static_cast<size_t>(kMaxFileBytes)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", path, " is larger than 1 MiB"));
  }
  return content;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const TlsFiles& tls) {
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its key: give both or neither");
  }
  grpc::SslCredentialsOptions options;
  if (!tls.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadSmall("ca file", tls.ca_file);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  if (!tls.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadSmall("cert", tls.cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadSmall("key", tls.key_file);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *std::move(cert);
    options.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::string> ReadCallerToken(const std::string& path) {
  absl::StatusOr<std::string> content = ReadSmall("caller token", path);
  if (!content.ok()) return content.status();
  std::string token(absl::StripAsciiWhitespace(*content));
  if (token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("caller token: ", path, " is empty"));
  }
  return token;
}

}  // namespace gitlab_gateway::client
