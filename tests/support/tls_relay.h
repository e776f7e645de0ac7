#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_TLS_RELAY_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_TLS_RELAY_H_

#include <openssl/ssl.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace gitlab_gateway::testing {

// TLS in front of a plain-HTTP server (a FakeGitLab): accepts TLS on
// 127.0.0.1:<ephemeral port> with a fresh self-signed certificate for
// 127.0.0.1, no ALPN (so clients speak HTTP/1.1), and relays bytes both ways
// to 127.0.0.1:<target_port> as they come. Whatever the fake sends, including
// bytes nobody asked for, reaches the client encrypted, one TLS record per
// read. One thread per connection.
//
// Construct and destroy on one thread; WaitForForwardedToClient from any
// thread; the rest of the class is internal.
class TlsRelay {
 public:
  explicit TlsRelay(int target_port);
  // Closes every connection and joins its thread.
  ~TlsRelay();
  TlsRelay(const TlsRelay&) = delete;
  TlsRelay& operator=(const TlsRelay&) = delete;

  // Why it could not start (no openssl binary, ...); OK when serving.
  const absl::Status& status() const { return status_; }
  std::string base_url() const;  // "https://127.0.0.1:<port>"
  // The self-signed certificate (PEM), to use as the CA bundle.
  std::string ca_file() const { return dir_ + "/cert.pem"; }

  // True once `n` bytes from the target (all connections) have been written
  // to clients, false after `timeout`. Written means in the client's socket:
  // on loopback the kernel queues them at the receiver before send returns.
  bool WaitForForwardedToClient(size_t n, absl::Duration timeout);

 private:
  absl::Status Start();
  void AcceptLoop();
  void Relay(int client_fd);

  const int target_port_;
  const int stop_fd_;  // eventfd; readable once stopping
  absl::Status status_;
  std::string dir_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;

  absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  size_t forwarded_to_client_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_TLS_RELAY_H_
