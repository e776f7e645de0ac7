#include "tests/support/tls_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tests/support/fake_gitlab_socket.h"

namespace gitlab_gateway::testing {
namespace {

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return fd;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

TlsRelay::TlsRelay(int target_port)
    : target_port_(target_port),
      stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  // OpenSSL writes with write(): a client that shut its socket down (as the
  // engine does with an unclean connection) must not kill the test.
  signal(SIGPIPE, SIG_IGN);
  char pattern[] = "/tmp/gg-tls-relay-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    status_ = absl::InternalError("mkdtemp failed");
    return;
  }
  dir_ = pattern;
  status_ = Start();
  if (status_.ok()) accept_thread_ = std::thread([this] { AcceptLoop(); });
}

absl::Status TlsRelay::Start() {
  std::string openssl = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ",
      dir_, "/key.pem -out ", dir_, "/cert.pem >/dev/null 2>&1");
  if (std::system(openssl.c_str()) != 0) {
    return absl::FailedPreconditionError(
        "openssl could not make a certificate (is the openssl tool "
        "installed?)");
  }
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (ctx_ == nullptr ||
      SSL_CTX_use_certificate_chain_file(ctx_, ca_file().c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx_, (dir_ + "/key.pem").c_str(),
                                  SSL_FILETYPE_PEM) != 1) {
    return absl::InternalError("TLS context setup failed");
  }
  listen_fd_ = fake_socket::ListenOnLoopback(&port_);
  if (listen_fd_ < 0) return absl::InternalError("listen on 127.0.0.1 failed");
  return absl::OkStatus();
}

TlsRelay::~TlsRelay() {
  uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof(one));
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  close(stop_fd_);
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string TlsRelay::base_url() const {
  return absl::StrCat("https://127.0.0.1:", port_);
}

bool TlsRelay::WaitForForwardedToClient(size_t n, absl::Duration timeout) {
  auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return forwarded_to_client_ >= n;
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

void TlsRelay::AcceptLoop() {
  for (;;) {
    if (fake_socket::WaitReady(listen_fd_, POLLIN, stop_fd_,
                               absl::InfiniteFuture()) !=
        fake_socket::IoResult::kOk) {
      return;
    }
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, fd] { Relay(fd); });
  }
}

// Blocking sockets; poll() decides which side to read, and the stop eventfd
// ends the relay. SSL_pending covers records OpenSSL already decrypted.
void TlsRelay::Relay(int client_fd) {
  int on = 1;
  setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, client_fd);
  int upstream_fd = -1;
  if (SSL_accept(ssl) == 1) upstream_fd = ConnectLoopback(target_port_);
  char buf[16 * 1024];
  while (upstream_fd >= 0) {
    pollfd fds[3] = {{stop_fd_, POLLIN, 0},
                     {client_fd, POLLIN, 0},
                     {upstream_fd, POLLIN, 0}};
    if (SSL_pending(ssl) == 0 && poll(fds, 3, -1) <= 0) continue;
    if (fds[0].revents != 0) break;
    if (SSL_pending(ssl) > 0 || fds[1].revents != 0) {
      int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0 || !WriteAll(upstream_fd, buf, static_cast<size_t>(n))) break;
    }
    if (fds[2].revents != 0) {
      ssize_t n = read(upstream_fd, buf, sizeof(buf));
      if (n <= 0 || SSL_write(ssl, buf, static_cast<int>(n)) <= 0) break;
      absl::MutexLock lock(&mu_);
      forwarded_to_client_ += static_cast<size_t>(n);
    }
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  if (upstream_fd >= 0) close(upstream_fd);
  close(client_fd);
}

}  // namespace gitlab_gateway::testing
