#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_TEST_CERTS_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_TEST_CERTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gitlab_gateway::testing {

// Certificates made at test time with the openssl CLI (EC P-256, valid two
// days), so no key material lives in the tree. Test thread only.

// A key and certificate, as PEM files.
struct CertFiles {
  std::string cert;
  std::string key;
};

// A self-signed leaf certificate `<dir>/<name>.pem` (key `<name>.key`)
// with subject CN=`cn` and subjectAltName `san` ("DNS:localhost,IP:...";
// empty: none). The TLS fake GitLab uses it as its own CA bundle.
absl::StatusOr<CertFiles> MakeSelfSigned(const std::string& dir,
                                         const std::string& name,
                                         const std::string& cn,
                                         const std::string& san);

// A certificate authority in `dir`, issuing leaf certificates for servers
// and clients:
//
//   absl::StatusOr<TestCa> ca = TestCa::Create(dir, "ca-a");
//   absl::StatusOr<CertFiles> server =
//       ca->Issue("server", "localhost", "DNS:localhost,IP:127.0.0.1");
//   absl::StatusOr<CertFiles> client =
//       ca->Issue("client", "client-cn", "URI:spiffe://example.org/ci");
class TestCa {
 public:
  static absl::StatusOr<TestCa> Create(const std::string& dir,
                                       const std::string& name);

  // The CA's certificate (PEM): the trust bundle for its leaves.
  const std::string& cert_file() const { return files_.cert; }

  // A leaf `<dir>/<name>.pem` / `<name>.key` signed by this CA, with
  // subject CN=`cn` and subjectAltName `san` (empty: none), usable for
  // serverAuth and clientAuth.
  absl::StatusOr<CertFiles> Issue(const std::string& name,
                                  const std::string& cn,
                                  const std::string& san) const;

 private:
  TestCa(std::string dir, CertFiles files)
      : dir_(std::move(dir)), files_(std::move(files)) {}

  std::string dir_;
  CertFiles files_;
};

// The whole content of `path` ("" when unreadable).
std::string ReadWholeFile(const std::string& path);

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_TEST_CERTS_H_
