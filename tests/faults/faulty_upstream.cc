#include "tests/faults/faulty_upstream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/support/fake_gitlab_http.h"
#include "tests/support/fake_gitlab_socket.h"

namespace gitlab_gateway::testing {

using fake_socket::IoResult;

// One accepted socket and the bytes read from it but not yet consumed.
struct FaultyUpstream::Connection {
  int fd;
  int stop_fd;
  std::string buf;
};

// What to do with the connection once an answer (or a fault) is done.
enum class FaultyUpstream::After {
  kKeepAlive,  // read the next request
  kClose,      // FIN
  kReset,      // RST
  kGone,       // the client closed or the upstream stops: just close
};

namespace {

constexpr absl::string_view kPrefix = "/api/v4";
constexpr absl::string_view kHealthyBody =
    R"({"id":42,"name":"demo","path_with_namespace":"group/demo"})";
constexpr size_t kMaxHeadBytes = 64 * 1024;
// Not HTTP at all: no "HTTP/" prefix, binary bytes, then an empty line.
constexpr char kGarbage[] =
    "\x00\x01\x02\x03 this is not HTTP \xff\xfe\r\n\r\n";

struct Route {
  absl::string_view name;
  Fault fault;
};

constexpr Route kRoutes[] = {
    {"reset-mid-body", Fault::kResetMidBody},
    {"stall-after-headers", Fault::kStallAfterHeaders},
    {"drip", Fault::kDrip},
    {"endless-chunked", Fault::kEndlessChunked},
    {"garbage", Fault::kGarbage},
    {"bad-status-line", Fault::kBadStatusLine},
    {"continue-storm", Fault::kContinueStorm},
    {"status", Fault::kStatus},
    {"huge-headers", Fault::kHugeHeaders},
    {"idle-close", Fault::kIdleClose},
};

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "FaultyUpstream: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// "/api/v4/faults/status/503" -> {kStatus, 503}; anything else is healthy.
Fault ParseRoute(absl::string_view path, int* status) {
  absl::string_view rest = path;
  if (!absl::ConsumePrefix(&rest, kPrefix) ||
      !absl::ConsumePrefix(&rest, "/faults/")) {
    return Fault::kHealthy;
  }
  absl::string_view name = rest.substr(0, rest.find('/'));
  for (const Route& route : kRoutes) {
    if (route.name != name) continue;
    if (route.fault == Fault::kStatus &&
        (name.size() >= rest.size() ||
         !absl::SimpleAtoi(rest.substr(name.size() + 1), status))) {
      return Fault::kHealthy;
    }
    return route.fault;
  }
  return Fault::kHealthy;
}

std::string Head(int status, absl::string_view extra_headers,
                 size_t content_length) {
  return absl::StrCat("HTTP/1.1 ", status, " ", fake_http::ReasonPhrase(status),
                      "\r\n", extra_headers, "Content-Length: ", content_length,
                      "\r\n\r\n");
}

bool Sent(const std::string& data, int fd, int stop_fd) {
  return fake_socket::SendAll(fd, stop_fd, data) == IoResult::kOk;
}

// Reads and drops what the client sends until `deadline`. True when the
// deadline passed, false when the client closed or the upstream stops.
bool HoldUntil(int fd, int stop_fd, absl::Time deadline) {
  for (;;) {
    std::string ignored;
    IoResult r = fake_socket::ReadSome(fd, stop_fd, deadline, &ignored);
    if (r == IoResult::kTimeout) return true;
    if (r != IoResult::kOk) return false;
  }
}

std::string StatusBody(int status) {
  return absl::StrCat(R"({"message":")", status, " ",
                      fake_http::ReasonPhrase(status), R"("})");
}

}  // namespace

FaultyUpstream::FaultyUpstream(FaultyUpstreamOptions options)
    : options_(options), stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (stop_fd_ < 0) Die("eventfd");
  listen_fd_ = fake_socket::ListenOnLoopback(&port_);
  if (listen_fd_ < 0) Die("listen on 127.0.0.1");
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

FaultyUpstream::~FaultyUpstream() {
  uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof(one));
  accept_thread_.join();
  close(listen_fd_);
  std::map<int, std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (auto& [id, thread] : threads) thread.join();
  close(stop_fd_);
}

std::string FaultyUpstream::base_url() const {
  return absl::StrCat("http://127.0.0.1:", port_);
}

std::string FaultyUpstream::https_base_url() const {
  return absl::StrCat("https://127.0.0.1:", port_);
}

FaultyUpstream::Counts FaultyUpstream::counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

bool FaultyUpstream::WaitForServerCloses(int64_t n,
                                         absl::Duration timeout) const {
  auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return counts_.idle_closes + counts_.closed_on_reuse >= n;
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

void FaultyUpstream::AcceptLoop() {
  for (;;) {
    IoResult ready = fake_socket::WaitReady(listen_fd_, POLLIN, stop_fd_,
                                            absl::InfiniteFuture());
    if (ready == IoResult::kStopped) return;
    int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        if (fake_socket::SleepUnlessStopped(
                stop_fd_, absl::Now() + absl::Milliseconds(10))) {
          return;
        }
      }
      continue;
    }
    int on = 1;  // drips and 1xx lines go out one by one
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    ReapFinishedThreads();
    absl::MutexLock lock(&mu_);
    int id = next_id_++;
    ++counts_.connections_accepted;
    ++counts_.open_connections;
    threads_.emplace(id, std::thread([this, fd, id] { Serve(fd, id); }));
  }
}

void FaultyUpstream::ReapFinishedThreads() {
  std::vector<std::thread> done;
  {
    absl::MutexLock lock(&mu_);
    for (int id : finished_) {
      auto it = threads_.find(id);
      done.push_back(std::move(it->second));
      threads_.erase(it);
    }
    finished_.clear();
  }
  for (std::thread& thread : done) thread.join();
}

void FaultyUpstream::Serve(int fd, int id) {
  Connection c{fd, stop_fd_, {}};
  bool doomed = false;
  After after;
  do {
    after = ServeOne(c, &doomed);
  } while (after == After::kKeepAlive);
  if (after == After::kReset) {
    fake_socket::ResetAndClose(fd);
  } else if (after == After::kClose) {
    fake_socket::GracefulClose(fd);
  } else {
    close(fd);
  }
  absl::MutexLock lock(&mu_);
  --counts_.open_connections;
  finished_.push_back(id);
}

// Reads one request head and acts out the fault its path names. `*doomed`:
// an idle-close answer was sent, so the connection is dropped next.
FaultyUpstream::After FaultyUpstream::ServeOne(Connection& c, bool* doomed) {
  const absl::Time idle_deadline = *doomed
                                       ? absl::Now() + options_.idle_close_after
                                       : absl::InfiniteFuture();
  size_t head_end;
  for (;;) {
    while (absl::StartsWith(c.buf, "\r\n")) c.buf.erase(0, 2);
    if (!c.buf.empty() && c.buf[0] == '\x16') {
      // A TLS ClientHello on this plaintext port: answer like a plaintext
      // server does; the client's TLS stack sees a broken handshake.
      {
        absl::MutexLock lock(&mu_);
        ++counts_.tls_hellos;
      }
      Sent(Head(400, "Connection: close\r\n", 0), c.fd, c.stop_fd);
      return After::kClose;
    }
    head_end = c.buf.find("\r\n\r\n");
    if (head_end != std::string::npos) break;
    if (c.buf.size() > kMaxHeadBytes) return After::kReset;
    IoResult r = fake_socket::ReadSome(c.fd, c.stop_fd, idle_deadline, &c.buf);
    if (r == IoResult::kTimeout) {
      absl::MutexLock lock(&mu_);
      ++counts_.idle_closes;
      return After::kClose;
    }
    if (r != IoResult::kOk) return After::kGone;
  }
  std::optional<fake_http::RequestHead> head =
      fake_http::ParseRequestHead(absl::string_view(c.buf).substr(0, head_end));
  c.buf.erase(0, head_end + 4);
  {
    absl::MutexLock lock(&mu_);
    ++counts_.requests;
    if (*doomed) ++counts_.closed_on_reuse;
  }
  if (!head.has_value()) {
    Sent(Head(400, "Connection: close\r\n", 0), c.fd, c.stop_fd);
    return After::kClose;
  }
  // The server's idle timer fired just as this request arrived.
  if (*doomed) return After::kClose;
  size_t length = 0;
  if (auto cl = fake_http::FindHeader(head->headers, "Content-Length")) {
    if (!absl::SimpleAtoi(*cl, &length)) return After::kReset;
  }
  while (c.buf.size() < length) {
    if (fake_socket::ReadSome(c.fd, c.stop_fd, absl::InfiniteFuture(),
                              &c.buf) != IoResult::kOk) {
      return After::kGone;
    }
  }
  c.buf.erase(0, length);
  const After keep =
      fake_http::WantsKeepAlive(*head) ? After::kKeepAlive : After::kClose;

  int status = 0;
  const int fd = c.fd;
  const int stop = c.stop_fd;
  switch (ParseRoute(head->path, &status)) {
    case Fault::kHealthy:
      return Sent(Head(200, "Content-Type: application/json\r\n",
                       kHealthyBody.size()) +
                      std::string(kHealthyBody),
                  fd, stop)
                 ? keep
                 : After::kGone;
    case Fault::kIdleClose:
      if (!Sent(Head(200, "Content-Type: application/json\r\n",
                     kHealthyBody.size()) +
                    std::string(kHealthyBody),
                fd, stop)) {
        return After::kGone;
      }
      *doomed = true;
      return keep;
    case Fault::kResetMidBody: {
      std::string out = Head(200, "Content-Type: application/json\r\n", 65536);
      out.append(1024, 'x');
      if (!Sent(out, fd, stop)) return After::kGone;
      // Let the partial body reach the client before the RST.
      if (!HoldUntil(fd, stop, absl::Now() + absl::Milliseconds(5))) {
        return After::kGone;
      }
      return After::kReset;
    }
    case Fault::kStallAfterHeaders:
      if (!Sent(Head(200, "Content-Type: application/json\r\n", 1000), fd,
                stop)) {
        return After::kGone;
      }
      HoldUntil(fd, stop, absl::InfiniteFuture());
      return After::kGone;
    case Fault::kDrip:
      if (!Sent(Head(200, "Content-Type: text/plain\r\n", 1000), fd, stop)) {
        return After::kGone;
      }
      for (int i = 0; i < 1000; ++i) {
        if (!HoldUntil(fd, stop, absl::Now() + options_.drip_interval) ||
            !Sent("x", fd, stop)) {
          return After::kGone;
        }
      }
      return keep;
    case Fault::kEndlessChunked: {
      if (!Sent("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n",
                fd, stop)) {
        return After::kGone;
      }
      std::string chunk = absl::StrCat(absl::Hex(options_.chunk_bytes), "\r\n");
      chunk.append(options_.chunk_bytes, 'x');
      chunk += "\r\n";
      while (Sent(chunk, fd, stop)) {
      }
      return After::kGone;
    }
    case Fault::kGarbage:
      Sent(std::string(kGarbage, sizeof(kGarbage) - 1), fd, stop);
      return After::kClose;
    case Fault::kBadStatusLine:
      Sent("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", fd, stop);
      return After::kClose;
    case Fault::kContinueStorm:
      while (Sent("HTTP/1.1 100 Continue\r\n\r\n", fd, stop) &&
             HoldUntil(fd, stop, absl::Now() + options_.continue_interval)) {
      }
      return After::kGone;
    case Fault::kStatus: {
      std::string extra = "Content-Type: application/json\r\n";
      if (status == 429) extra += "Retry-After: 1\r\n";
      std::string body = StatusBody(status);
      return Sent(Head(status, extra, body.size()) + body, fd, stop)
                 ? keep
                 : After::kGone;
    }
    case Fault::kHugeHeaders: {
      std::string extra = "Content-Type: application/json\r\n";
      extra.reserve(options_.huge_header_count * 6 + extra.size());
      for (size_t i = 0; i < options_.huge_header_count; ++i)
        extra += "x: y\r\n";
      std::string body = StatusBody(404);
      return Sent(Head(404, extra, body.size()) + body, fd, stop)
                 ? keep
                 : After::kGone;
    }
  }
  return After::kReset;
}

std::string FaultPath(Fault fault, int status) {
  if (fault == Fault::kHealthy) return "/projects/42";
  for (const Route& route : kRoutes) {
    if (route.fault != fault) continue;
    if (fault == Fault::kStatus) {
      return absl::StrCat("/faults/", route.name, "/", status);
    }
    return absl::StrCat("/faults/", route.name);
  }
  return "/faults/unknown";
}

}  // namespace gitlab_gateway::testing
