#include "tests/support/fake_gitlab_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "absl/time/clock.h"

namespace gitlab_gateway::testing::fake_socket {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

// ppoll() rather than poll(): a nanosecond timeout, so short drips and delays
// are not rounded up to whole milliseconds.
IoResult WaitReady(int fd, short events, int stop_fd, absl::Time deadline) {
  for (;;) {
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd, events, 0}};
    timespec ts;
    timespec* timeout = nullptr;
    if (deadline != absl::InfiniteFuture()) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return IoResult::kTimeout;
      ts = absl::ToTimespec(left);
      timeout = &ts;
    }
    int n = ppoll(fds, 2, timeout, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoResult::kPeerClosed;
    }
    if (fds[0].revents != 0) return IoResult::kStopped;
    // POLLERR/POLLHUP count as ready: the next read()/send() reports them.
    if (fds[1].revents != 0) return IoResult::kOk;
  }
}

IoResult ReadSome(int fd, int stop_fd, absl::Time deadline, std::string* buf) {
  for (;;) {
    IoResult waited = WaitReady(fd, POLLIN | POLLRDHUP, stop_fd, deadline);
    if (waited != IoResult::kOk) return waited;
    char chunk[kReadChunk];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n > 0) {
      buf->append(chunk, static_cast<size_t>(n));
      return IoResult::kOk;
    }
    if (n == 0) return IoResult::kPeerClosed;
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    return IoResult::kPeerClosed;
  }
}

IoResult SendAll(int fd, int stop_fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IoResult::kPeerClosed;
    IoResult waited = WaitReady(fd, POLLOUT, stop_fd, absl::InfiniteFuture());
    if (waited != IoResult::kOk) return waited;
  }
  return IoResult::kOk;
}

bool SleepUnlessStopped(int stop_fd, absl::Time deadline) {
  for (;;) {
    pollfd fds[1] = {{stop_fd, POLLIN, 0}};
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    timespec ts = absl::ToTimespec(left);
    int n = ppoll(fds, 1, &ts, nullptr);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

void ResetAndClose(int fd) {
  linger lin = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
  close(fd);
}

void GracefulClose(int fd) {
  shutdown(fd, SHUT_WR);
  char chunk[kReadChunk];
  while (read(fd, chunk, sizeof(chunk)) > 0) {
  }
  close(fd);
}

int ListenOnLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, SOMAXCONN) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace gitlab_gateway::testing::fake_socket
