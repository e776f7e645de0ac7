#include "tests/support/tls_gitlab.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/fake_gitlab_socket.h"
#include "tests/support/test_certs.h"

namespace gitlab_gateway::testing {
namespace {

constexpr char kNginx[] = "/usr/sbin/nginx";

constexpr char kConfig[] = R"(
worker_processes 1;
daemon off;
master_process off;
pid @DIR@/nginx.pid;
error_log @DIR@/error.log warn;
events { worker_connections 256; }
http {
  log_format gg '$server_protocol $connection $request_uri $status $http_private_token';
  access_log @DIR@/access.log gg;
  client_body_temp_path @DIR@/body;
  proxy_temp_path @DIR@/proxy;
  fastcgi_temp_path @DIR@/fastcgi;
  uwsgi_temp_path @DIR@/uwsgi;
  scgi_temp_path @DIR@/scgi;
  server_tokens off;
  server {
    listen 127.0.0.1:@PORT@ ssl http2;
    ssl_certificate @DIR@/cert.pem;
    ssl_certificate_key @DIR@/cert.key;
    default_type application/json;
    location = /api/v4/projects/42 {
      add_header RateLimit-Limit 2000;
      add_header RateLimit-Remaining 1999;
      add_header X-Total 1;
      return 200 '{"id":42,"path_with_namespace":"group/demo"}';
    }
    location / {
      return 404 '{"message":"404 Not Found"}';
    }
  }
}
)";

// A port free when picked (the listener is closed again at once).
int FreeLoopbackPort() {
  int port = 0;
  int fd = fake_socket::ListenOnLoopback(&port);
  if (fd < 0) return 0;
  close(fd);
  return port;
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

TlsGitLab::TlsGitLab() {
  char pattern[] = "/tmp/gg-tls-gitlab-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    status_ = absl::InternalError("mkdtemp failed");
    return;
  }
  dir_ = pattern;
  status_ = Start();
}

absl::Status TlsGitLab::Start() {
  if (access(kNginx, X_OK) != 0) {
    return absl::FailedPreconditionError(
        "nginx not found at /usr/sbin/nginx: run scripts/install-deps.sh "
        "(nginx-light is part of make test)");
  }
  absl::StatusOr<CertFiles> cert =
      MakeSelfSigned(dir_, "cert", "localhost", "DNS:localhost,IP:127.0.0.1");
  if (!cert.ok()) {
    return absl::InternalError(absl::StrCat(
        "openssl could not make a certificate: ", cert.status().message()));
  }
  // The port is free when picked; nginx may lose a race for it, so retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreeLoopbackPort();
    std::string config = absl::StrReplaceAll(
        kConfig, {{"@DIR@", dir_}, {"@PORT@", absl::StrCat(port_)}});
    std::ofstream(dir_ + "/nginx.conf") << config;
    pid_ = fork();
    if (pid_ == 0) {
      std::string conf = dir_ + "/nginx.conf";
      execl(kNginx, kNginx, "-p", dir_.c_str(), "-c", conf.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up) {
      int wstatus = 0;
      if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
        pid_ = -1;
        break;  // exited: most likely the port was taken meanwhile
      }
      if (Accepts(port_)) return absl::OkStatus();
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  return absl::UnavailableError(absl::StrCat(
      "nginx did not start: ", ReadWholeFile(dir_ + "/error.log")));
}

TlsGitLab::~TlsGitLab() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    bool reaped = false;
    absl::Time give_up = absl::Now() + absl::Seconds(5);
    while (!reaped && absl::Now() < give_up) {
      reaped = waitpid(pid_, nullptr, WNOHANG) == pid_;
      if (!reaped) absl::SleepFor(absl::Milliseconds(5));
    }
    if (!reaped) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string TlsGitLab::base_url() const {
  return absl::StrCat("https://127.0.0.1:", port_);
}

std::vector<TlsGitLab::LogEntry> TlsGitLab::Log(size_t at_least) const {
  // nginx writes a line once the response is sent, so the caller may have
  // its answer a moment before the line is there.
  std::vector<LogEntry> entries;
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  do {
    entries.clear();
    for (absl::string_view line : absl::StrSplit(
             ReadWholeFile(dir_ + "/access.log"), '\n', absl::SkipEmpty())) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      if (f.size() != 5) continue;
      LogEntry entry{f[0], f[1], f[2], 0, f[4]};
      (void)absl::SimpleAtoi(f[3], &entry.status);
      entries.push_back(std::move(entry));
    }
    if (entries.size() >= at_least) break;
    absl::SleepFor(absl::Milliseconds(10));
  } while (absl::Now() < give_up);
  return entries;
}

}  // namespace gitlab_gateway::testing
