#ifndef GITLAB_GATEWAY_TESTS_SERVER_CLOSED_PORT_H_
#define GITLAB_GATEWAY_TESTS_SERVER_CLOSED_PORT_H_

// A loopback port that refuses connections for as long as this object lives:
// a TCP socket bound to 127.0.0.1:<ephemeral port> that never listens. A
// connect to it gets an RST (ECONNREFUSED). Since the socket keeps the port
// bound (no SO_REUSEADDR/SO_REUSEPORT), nothing else binding port 0, such as
// the gateway's own gRPC server or a fake, can be handed the same port; a port
// from a stopped server could be. Construct, use and destroy on one thread.
//
//   ClosedPort closed;
//   config.gitlab_url = absl::StrCat("http://127.0.0.1:", closed.port());

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "gtest/gtest.h"

namespace gitlab_gateway::testing {

class ClosedPort {
 public:
  ClosedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd_ < 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "could not bind a socket on 127.0.0.1";
      std::abort();
    }
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { close(fd_); }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SERVER_CLOSED_PORT_H_
