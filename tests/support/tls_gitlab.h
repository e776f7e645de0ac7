#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_TLS_GITLAB_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_TLS_GITLAB_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gitlab_gateway::testing {

// A GitLab stand-in over HTTP/2 + TLS: a real nginx (Debian's nginx-light,
// installed by `make test`) on 127.0.0.1 with a fresh self-signed
// certificate for localhost / 127.0.0.1. The fake GitLab speaks HTTP/1.1
// only; this is what proves the engine's TLS, certificate and HTTP/2
// multiplexing paths (Debian's curl breaks on h2c reuse, so h2 is tested
// over TLS as in production).
//
// Routes (under /api/v4):
//   GET /projects/42      200 {"id":42,...} with RateLimit-* and X-Total
//   anything else         404 {"message":"404 Not Found"}
// Every request is written to an access log: protocol, connection serial,
// URI, status and the PRIVATE-TOKEN header. Test thread only.
class TlsGitLab {
 public:
  // Starts nginx; `status()` says why when it could not.
  TlsGitLab();
  ~TlsGitLab();
  TlsGitLab(const TlsGitLab&) = delete;
  TlsGitLab& operator=(const TlsGitLab&) = delete;

  const absl::Status& status() const { return status_; }
  int port() const { return port_; }
  // "https://127.0.0.1:<port>"
  std::string base_url() const;
  // The self-signed certificate (PEM), to use as the CA bundle.
  std::string ca_file() const { return dir_ + "/cert.pem"; }

  struct LogEntry {
    std::string protocol;  // "HTTP/2.0"
    std::string connection;
    std::string uri;
    int status = 0;
    std::string private_token;  // "-" when absent
  };
  // The access log, once it has `at_least` lines (or after 5 s).
  std::vector<LogEntry> Log(size_t at_least = 0) const;

 private:
  absl::Status Start();

  absl::Status status_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_TLS_GITLAB_H_
