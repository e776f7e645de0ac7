#include "service/auth/server_tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gitlab_gateway::auth {
namespace {

struct BioCloser {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Closer {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyCloser {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioCloser>;
using Cert = std::unique_ptr<X509, X509Closer>;
using Key = std::unique_ptr<EVP_PKEY, KeyCloser>;

absl::Status Problem(absl::string_view flag, const std::string& path,
                     absl::string_view why) {
  ERR_clear_error();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": ", path, ": ", why));
}

absl::StatusOr<Bio> Open(absl::string_view flag, const std::string& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) return Problem(flag, path, "cannot be read");
  return bio;
}

// The first certificate of a PEM file, and how many it holds.
absl::StatusOr<Cert> FirstCertificate(absl::string_view flag,
                                      const std::string& path, int* count) {
  absl::StatusOr<Bio> bio = Open(flag, path);
  if (!bio.ok()) return bio.status();
  Cert first;
  *count = 0;
  while (X509* cert =
             PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr)) {
    if (first == nullptr) {
      first.reset(cert);
    } else {
      X509_free(cert);
    }
    ++*count;
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (first == nullptr) {
    return Problem(flag, path, "holds no PEM certificate");
  }
  return first;
}

absl::Status CheckFiles(const TlsOptions& options) {
  int count = 0;
  absl::StatusOr<Cert> leaf =
      FirstCertificate("tls_cert_file", options.cert_file, &count);
  if (!leaf.ok()) return leaf.status();
  absl::StatusOr<Bio> bio = Open("tls_key_file", options.key_file);
  if (!bio.ok()) return bio.status();
  Key key(PEM_read_bio_PrivateKey(bio->get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return Problem("tls_key_file", options.key_file,
                   "holds no PEM private key (or it is encrypted)");
  }
  if (X509_check_private_key(leaf->get(), key.get()) != 1) {
    return Problem("tls_key_file", options.key_file,
                   "does not match the certificate of --tls_cert_file");
  }
  if (!options.client_ca_file.empty()) {
    absl::StatusOr<Cert> ca =
        FirstCertificate("tls_client_ca_file", options.client_ca_file, &count);
    if (!ca.ok()) return ca.status();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options) {
  if (options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_key_file: must be set with --tls_cert_file");
  }
  if (absl::Status s = CheckFiles(options); !s.ok()) return s;
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(options.refresh));
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          options.key_file, options.cert_file, options.client_ca_file,
          static_cast<unsigned int>(std::min<int64_t>(seconds, 86400)));
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (options.client_ca_file.empty()) {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    tls.watch_root_certs();
    tls.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(tls);
  if (credentials == nullptr) {
    return absl::InternalError("gRPC refused the TLS server options");
  }
  return credentials;
}

}  // namespace gitlab_gateway::auth
