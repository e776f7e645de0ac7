// gg_delay_server: a tiny HTTP/1.1 keep-alive upstream on loopback for the
// benchmarks nginx cannot play: it answers every request with the project JSON
// after a fixed delay (fan-out benchmark), or never (--delay_ms=-1: a stalled
// GitLab, for memory with 10,000 calls in flight).
//
// One thread, epoll + one timerfd (sub-millisecond delays, unlike epoll_wait's
// millisecond timeout). Requests are GETs without bodies; each connection's
// answers go out in request order. Prints "port N" on stdout once listening.
//
//   gg_delay_server --port 0 --delay_ms 20 --body bench/fixtures/project.json
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <queue>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  std::string in;
  std::string out;
  bool want_out = false;    // EPOLLOUT registered
  uint64_t generation = 0;  // tells a reused fd from the one a timer named
};

struct Due {
  Clock::time_point when;
  int fd;
  uint64_t generation;
  bool operator>(const Due& other) const { return when > other.when; }
};

std::string Flag(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

void Arm(int timer_fd, Clock::time_point when) {
  itimerspec spec{};
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                when.time_since_epoch())
                .count();
  if (ns <= 0) ns = 1;
  spec.it_value.tv_sec = ns / 1000000000;
  spec.it_value.tv_nsec = ns % 1000000000;
  timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  const int port = std::atoi(Flag(argc, argv, "--port", "0").c_str());
  const int delay_ms = std::atoi(Flag(argc, argv, "--delay_ms", "20").c_str());
  const std::string body_file =
      Flag(argc, argv, "--body", "bench/fixtures/project.json");
  std::ifstream file(body_file);
  std::stringstream body_stream;
  body_stream << file.rdbuf();
  const std::string body = body_stream.str();
  if (body.empty()) {
    std::fprintf(stderr, "delay_server: cannot read %s\n", body_file.c_str());
    return 2;
  }
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n\r\n" + body;

  rlimit limit{65536, 65536};
  setrlimit(RLIMIT_NOFILE, &limit);

  int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd, 4096) != 0) {
    std::perror("delay_server: listen");
    return 1;
  }
  socklen_t len = sizeof(addr);
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("port %d\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  int epoll_fd = epoll_create1(0);
  int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
  ev.data.fd = timer_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &ev);

  std::unordered_map<int, Conn> conns;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due;
  uint64_t next_generation = 1;
  char buf[16384];

  auto close_conn = [&](int fd) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns.erase(fd);
  };
  auto flush = [&](int fd, Conn& c) {
    while (!c.out.empty()) {
      ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) break;
        close_conn(fd);
        return;
      }
      c.out.erase(0, static_cast<size_t>(n));
    }
    // Only a change of interest costs a syscall: the usual answer fits the
    // socket buffer in one send.
    if (c.want_out == c.out.empty()) {
      c.want_out = !c.out.empty();
      epoll_event mod{};
      mod.events =
          EPOLLIN | (c.want_out ? static_cast<unsigned>(EPOLLOUT) : 0u);
      mod.data.fd = fd;
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &mod);
    }
  };

  epoll_event events[256];
  while (true) {
    int n = epoll_wait(epoll_fd, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listen_fd) {
        while (true) {
          int c = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK);
          if (c < 0) break;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event add{};
          add.events = EPOLLIN;
          add.data.fd = c;
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c, &add);
          conns[c].generation = next_generation++;
        }
        continue;
      }
      if (fd == timer_fd) {
        uint64_t expirations;
        (void)read(timer_fd, &expirations, sizeof(expirations));
        Clock::time_point now = Clock::now();
        while (!due.empty() && due.top().when <= now) {
          Due d = due.top();
          due.pop();
          auto it = conns.find(d.fd);
          if (it == conns.end() || it->second.generation != d.generation) {
            continue;
          }
          it->second.out += response;
          flush(d.fd, it->second);
        }
        if (!due.empty()) Arm(timer_fd, due.top().when);
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      if (events[i].events & EPOLLOUT) flush(fd, c);
      if (conns.find(fd) == conns.end()) continue;
      if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      bool closed = false;
      while (true) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r > 0) {
          c.in.append(buf, static_cast<size_t>(r));
          // Level-triggered: a short read drained the socket, skip the EAGAIN.
          if (static_cast<size_t>(r) < sizeof(buf)) break;
          continue;
        }
        if (r == 0 || errno != EAGAIN) closed = true;
        break;
      }
      size_t end;
      while ((end = c.in.find("\r\n\r\n")) != std::string::npos) {
        c.in.erase(0, end + 4);
        if (delay_ms < 0) continue;  // stalled: never answer
        if (delay_ms == 0) {
          c.out += response;
          continue;
        }
        Clock::time_point when =
            Clock::now() + std::chrono::milliseconds(delay_ms);
        bool earliest = due.empty() || when < due.top().when;
        due.push(Due{when, fd, c.generation});
        if (earliest) Arm(timer_fd, when);
      }
      if (closed) {
        close_conn(fd);
        continue;
      }
      if (!c.out.empty()) flush(fd, c);
    }
  }
}
