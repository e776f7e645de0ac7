#ifndef GITLAB_GATEWAY_TESTS_FAULTS_FAULTY_UPSTREAM_H_
#define GITLAB_GATEWAY_TESTS_FAULTS_FAULTY_UPSTREAM_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace gitlab_gateway::testing {

// The ways FaultyUpstream misbehaves. Each is chosen by the request path
// (FaultPath), so one upstream serves healthy and broken calls side by side.
enum class Fault {
  kHealthy,            // 200 JSON with Content-Length, keep-alive
  kResetMidBody,       // 200, Content-Length 64 KiB, 1 KiB of it, then RST
  kStallAfterHeaders,  // 200 head with Content-Length, then nothing
  kDrip,               // 200 head, then one body byte per drip_interval
  kEndlessChunked,     // 200 chunked, chunks for as long as the client reads
  kGarbage,            // bytes that are not HTTP at all, then close
  kBadStatusLine,      // "HTTP/1.1 2OO OK": a malformed status line, close
  kContinueStorm,  // "HTTP/1.1 100 Continue" every continue_interval, forever
  kStatus,         // the status named in the path (5xx, 429 Retry-After 1)
  kHugeHeaders,    // 404 with huge_header_count short headers
  kIdleClose,      // 200 keep-alive; then the server drops the idle
                   // connection (see FaultyUpstreamOptions)
};

struct FaultyUpstreamOptions {
  absl::Duration drip_interval = absl::Seconds(1);
  absl::Duration continue_interval = absl::Milliseconds(1);
  // 45,000 x "x: y" stays under libcurl's 300 KB cap on a response head, so
  // the answer reaches the gateway whole.
  size_t huge_header_count = 45000;
  // After a kIdleClose answer the connection waits this long for another
  // request: none comes -> the server closes it (FIN); one comes -> the server
  // reads it and closes without answering, as if its idle timer fired just
  // as the request arrived. Either way the caller's next call on the pool
  // must still succeed.
  absl::Duration idle_close_after = absl::Milliseconds(20);
  size_t chunk_bytes = 16 * 1024;
};

// A misbehaving upstream for fault-injection tests and the soak: HTTP/1.1 on
// 127.0.0.1:<ephemeral port>, one thread per connection, every fault chosen
// by path. It also stands for "TLS handshake failure": a client that starts
// a TLS handshake on this plaintext port gets an HTTP 400 and a close, which
// TLS reads as a broken handshake (point a gateway at https_base_url()).
//
// All methods are thread-safe. The destructor interrupts stalls, drips and
// storms, closes every connection and joins every thread.
//
//   FaultyUpstream upstream;
//   config.gitlab_url = upstream.base_url();
//   request.set_path(FaultPath(Fault::kStallAfterHeaders));
class FaultyUpstream {
 public:
  explicit FaultyUpstream(FaultyUpstreamOptions options = {});
  ~FaultyUpstream();
  FaultyUpstream(const FaultyUpstream&) = delete;
  FaultyUpstream& operator=(const FaultyUpstream&) = delete;

  int port() const { return port_; }
  std::string base_url() const;        // "http://127.0.0.1:<port>"
  std::string https_base_url() const;  // "https://127.0.0.1:<port>"
  const FaultyUpstreamOptions& options() const { return options_; }

  struct Counts {
    int64_t requests = 0;  // request heads read (also the unanswered ones)
    int64_t connections_accepted = 0;
    int64_t open_connections = 0;
    int64_t idle_closes = 0;      // idle connections the server closed
    int64_t closed_on_reuse = 0;  // requests read on such a connection and
                                  // dropped unanswered
    int64_t tls_hellos = 0;       // TLS handshakes refused with HTTP 400
  };
  Counts counts() const;
  // True once idle_closes + closed_on_reuse >= n, false after `timeout`.
  bool WaitForServerCloses(int64_t n, absl::Duration timeout) const;

 private:
  struct Connection;
  enum class After;

  void AcceptLoop();
  void ReapFinishedThreads();
  void Serve(int fd, int id);
  After ServeOne(Connection& c, bool* doomed);

  const FaultyUpstreamOptions options_;
  const int stop_fd_;  // eventfd; readable for good once stopping
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;

  mutable absl::Mutex mu_;
  Counts counts_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int, std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<int> finished_ ABSL_GUARDED_BY(mu_);
};

// "/faults/stall-after-headers": the path under /api/v4 (a Request.path)
// that makes FaultyUpstream act out `fault`; `status` is for kStatus.
// kHealthy is "/projects/42".
std::string FaultPath(Fault fault, int status = 0);

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_FAULTS_FAULTY_UPSTREAM_H_
