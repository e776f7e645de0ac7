#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace gitlab_gateway::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

RedisServer::RedisServer() : port_(FreePort()) {}

RedisServer::~RedisServer() {
  Thaw();
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

std::string RedisServer::url() const {
  return absl::StrCat("redis://127.0.0.1:", port_, "/0");
}

absl::Status RedisServer::Start() {
  if (port_ == 0) return absl::InternalError("no free port");
  if (pid_ > 0) return absl::FailedPreconditionError("already running");
  std::string port = absl::StrCat(port_);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // The server's own output would interleave with the test's.
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    execl("/usr/bin/redis-server", "redis-server", "--port", port.c_str(),
          "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
          "--daemonize", "no", "--dir", "/tmp", static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up) {
    if (Query("PING") == "+PONG") return absl::OkStatus();
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(
          "redis-server exited at start (is the redis-server package "
          "installed? scripts/install-deps.sh)");
    }
    absl::SleepFor(absl::Milliseconds(20));  // readiness poll, bounded
  }
  return absl::DeadlineExceededError("redis-server did not answer PING");
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::Freeze() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServer::Thaw() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

std::string RedisServer::Query(const std::string& command) const {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  std::string line;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string request = command + "\r\n";  // inline command
    if (write(fd, request.data(), request.size()) ==
        static_cast<ssize_t>(request.size())) {
      auto read_line = [fd] {
        std::string text;
        char c;
        while (read(fd, &c, 1) == 1 && c != '\n') {
          if (c != '\r') text.push_back(c);
        }
        return text;
      };
      line = read_line();
      // A bulk string: its content instead of its length.
      if (line.size() > 1 && line[0] == '$' && line != "$-1")
        line = read_line();
    }
  }
  close(fd);
  return line;
}

}  // namespace gitlab_gateway::testing
