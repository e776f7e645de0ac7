#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_SOCKET_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_SOCKET_H_

// Socket helpers for FakeGitLab. Every wait also watches `stop_fd` (an eventfd
// that becomes readable for good when the fake stops), so a stopping fake
// interrupts reads, writes, delays and stalls at once. Free functions; any
// thread, one thread per socket at a time. Internal to tests/support.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gitlab_gateway::testing::fake_socket {

enum class IoResult {
  kOk,          // progress was made
  kTimeout,     // the deadline passed first
  kStopped,     // stop_fd became readable
  kPeerClosed,  // EOF, RST or another error on the socket
};

// Waits until poll() reports `events` (or an error) on `fd`. kOk when ready.
IoResult WaitReady(int fd, short events, int stop_fd, absl::Time deadline);

// Waits until `fd` is readable (or `deadline`), then appends what one read()
// returns to `buf`. Sees a client close within a scheduler tick.
IoResult ReadSome(int fd, int stop_fd, absl::Time deadline, std::string* buf);

// Sends all of `data` on non-blocking `fd` with MSG_NOSIGNAL.
IoResult SendAll(int fd, int stop_fd, absl::string_view data);

// Blocks until stop_fd is readable or `deadline`; true when stopped.
bool SleepUnlessStopped(int stop_fd, absl::Time deadline);

// Closes with an RST instead of a FIN (SO_LINGER 0).
void ResetAndClose(int fd);

// Sends a FIN, discards unread input so close() does not turn into an RST that
// could destroy the response in flight, then closes.
void GracefulClose(int fd);

// A non-blocking listening socket on 127.0.0.1 with an ephemeral port, or -1
// with errno set. Stores the port in `*port`.
int ListenOnLoopback(int* port);

}  // namespace gitlab_gateway::testing::fake_socket

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_SOCKET_H_
