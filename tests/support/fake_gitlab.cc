#include "tests/support/fake_gitlab.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/fake_gitlab_http.h"
#include "tests/support/fake_gitlab_socket.h"

namespace gitlab_gateway::testing {

using fake_socket::IoResult;

namespace {

// Bigger heads are answered 431 and the connection is closed.
constexpr size_t kMaxHeadBytes = 1 << 20;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "FakeGitLab: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

bool HasHeader(const fake_http::Headers& headers, absl::string_view name) {
  return fake_http::FindHeader(headers, name).has_value();
}

}  // namespace

FakeGitLab::FakeGitLab()
    : stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      handler_(std::make_shared<const Handler>([](const RecordedRequest&) {
        return Reply::Json(200, R"({"ok":true})");
      })) {
  if (stop_fd_ < 0) Die("eventfd");
  listen_fd_ = fake_socket::ListenOnLoopback(&port_);
  if (listen_fd_ < 0) Die("listen on 127.0.0.1");
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

FakeGitLab::~FakeGitLab() {
  uint64_t one = 1;
  // An eventfd write of 1 cannot fail short of a broken fd; nothing to do then.
  (void)!write(stop_fd_, &one, sizeof(one));
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
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

std::string FakeGitLab::base_url() const {
  return absl::StrCat("http://127.0.0.1:", port_);
}

void FakeGitLab::SetHandler(Handler handler) {
  auto shared = std::make_shared<const Handler>(std::move(handler));
  absl::MutexLock lock(&mu_);
  handler_ = std::move(shared);
}

void FakeGitLab::Enqueue(Reply reply) {
  absl::MutexLock lock(&mu_);
  scripted_.push_back(std::move(reply));
}

std::vector<RecordedRequest> FakeGitLab::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

size_t FakeGitLab::request_count() const {
  absl::MutexLock lock(&mu_);
  return requests_.size();
}

bool FakeGitLab::WaitForRequests(size_t n, absl::Duration timeout) const {
  auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return requests_.size() >= n;
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

int FakeGitLab::open_connections() const {
  absl::MutexLock lock(&mu_);
  return open_connections_;
}

int FakeGitLab::connections_accepted() const {
  absl::MutexLock lock(&mu_);
  return connections_accepted_;
}

int FakeGitLab::connections_closed_by_client() const {
  absl::MutexLock lock(&mu_);
  return closed_by_client_;
}

bool FakeGitLab::WaitForClosedByClient(int n, absl::Duration timeout) const {
  auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_by_client_ >= n;
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

int FakeGitLab::in_progress() const {
  absl::MutexLock lock(&mu_);
  return in_progress_;
}

int FakeGitLab::max_in_progress() const {
  absl::MutexLock lock(&mu_);
  return max_in_progress_;
}

void FakeGitLab::ClearRecords() {
  absl::MutexLock lock(&mu_);
  requests_.clear();
  max_in_progress_ = in_progress_;
}

void FakeGitLab::AcceptLoop() {
  for (;;) {
    IoResult ready = fake_socket::WaitReady(listen_fd_, POLLIN, stop_fd_,
                                            absl::InfiniteFuture());
    if (ready == IoResult::kStopped) return;
    int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or memory: back off instead of spinning.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        if (fake_socket::SleepUnlessStopped(
                stop_fd_, absl::Now() + absl::Milliseconds(10))) {
          return;
        }
      }
      continue;
    }
    // Drips send one byte at a time; Nagle would hold them back.
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    ReapFinishedThreads();
    absl::MutexLock lock(&mu_);
    int id = next_connection_id_++;
    ++open_connections_;
    ++connections_accepted_;
    threads_.emplace(id,
                     std::thread([this, fd, id] { ServeConnection(fd, id); }));
  }
}

void FakeGitLab::ReapFinishedThreads() {
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

void FakeGitLab::ServeConnection(int fd, int id) {
  std::string buf;
  End end = ServeRequests(fd, id, &buf);
  switch (end) {
    case End::kReset:
      fake_socket::ResetAndClose(fd);
      break;
    case End::kServerClose:
      fake_socket::GracefulClose(fd);
      break;
    default:
      close(fd);
      break;
  }
  absl::MutexLock lock(&mu_);
  --open_connections_;
  if (end == End::kClientClosed) ++closed_by_client_;
  finished_.push_back(id);
}

FakeGitLab::End FakeGitLab::ServeRequests(int fd, int id, std::string* buf) {
  for (;;) {
    RecordedRequest req;
    bool keep_alive = false;
    End end = ReadRequest(fd, buf, &req, &keep_alive);
    if (end != End::kKeepAlive) return end;
    req.connection_id = id;
    Reply reply = RecordAndPickReply(req);
    bool counted = true;
    end = Answer(fd, req, reply, keep_alive, buf, &counted);
    FinishRequest(&counted);
    if (end != End::kKeepAlive) return end;
  }
}

// Reads one request (head and Content-Length body) from `buf` and the socket;
// bytes after it stay in `buf`. kKeepAlive when `*req` was filled.
FakeGitLab::End FakeGitLab::ReadRequest(int fd, std::string* buf,
                                        RecordedRequest* req,
                                        bool* keep_alive) {
  // RFC 9112 section 2.2: ignore empty lines before a request line.
  while (absl::StartsWith(*buf, "\r\n")) buf->erase(0, 2);
  size_t head_end;
  while ((head_end = buf->find("\r\n\r\n")) == std::string::npos) {
    if (buf->size() > kMaxHeadBytes) {
      return SendError(fd, 431, "request head too large");
    }
    End end = ReadMore(fd, buf);
    if (end != End::kKeepAlive) return end;
    while (absl::StartsWith(*buf, "\r\n")) buf->erase(0, 2);
  }
  std::optional<fake_http::RequestHead> head =
      fake_http::ParseRequestHead(absl::string_view(*buf).substr(0, head_end));
  buf->erase(0, head_end + 4);
  if (!head.has_value()) return SendError(fd, 400, "malformed request head");
  if (HasHeader(head->headers, "Transfer-Encoding")) {
    return SendError(fd, 411, "chunked request bodies are not supported");
  }
  size_t length = 0;
  std::optional<std::string> length_header =
      fake_http::FindHeader(head->headers, "Content-Length");
  if (length_header.has_value() && !absl::SimpleAtoi(*length_header, &length)) {
    return SendError(fd, 400, "Content-Length is not a number");
  }
  std::optional<std::string> expect =
      fake_http::FindHeader(head->headers, "Expect");
  if (expect.has_value() && fake_http::HasToken(*expect, "100-continue") &&
      buf->size() < length) {
    End end = Send(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    if (end != End::kKeepAlive) return end;
  }
  size_t max_stored;
  {
    absl::MutexLock lock(&mu_);
    max_stored = max_stored_body_;
  }
  req->body_size = length;
  if (length > max_stored) {
    // Hashed piece by piece as it arrives: never held whole.
    size_t left = length;
    for (;;) {
      size_t n = std::min(left, buf->size());
      req->body_hash = Fnv1a(absl::string_view(*buf).substr(0, n),
                             req->body_hash);
      buf->erase(0, n);
      left -= n;
      if (left == 0) break;
      End end = ReadMore(fd, buf);
      if (end != End::kKeepAlive) return end;
    }
    length = 0;
  }
  while (buf->size() < length) {
    End end = ReadMore(fd, buf);
    if (end != End::kKeepAlive) return end;
  }
  *keep_alive = fake_http::WantsKeepAlive(*head);
  req->method = std::move(head->method);
  req->target = std::move(head->target);
  req->path = std::move(head->path);
  req->query = std::move(head->query);
  req->headers = std::move(head->headers);
  req->body = buf->substr(0, length);
  if (req->body_size == length) req->body_hash = Fnv1a(req->body);
  buf->erase(0, length);
  req->received_at = absl::Now();
  return End::kKeepAlive;
}

// `*counted` is true while the request counts in in_progress_. It is released
// just before the last byte the client can observe (or the close), so once a
// client has seen the whole outcome, in_progress() no longer counts it.
FakeGitLab::End FakeGitLab::Answer(int fd, const RecordedRequest& req,
                                   const Reply& reply, bool keep_alive,
                                   std::string* buf, bool* counted) {
  if (reply.delay > absl::ZeroDuration()) {
    End end = HoldUntil(fd, absl::Now() + reply.delay, buf);
    if (end != End::kKeepAlive) return end;
  }
  switch (reply.action) {
    case Reply::Action::kReset:
      FinishRequest(counted);
      return End::kReset;
    case Reply::Action::kClose:
      FinishRequest(counted);
      return End::kServerClose;
    case Reply::Action::kStall:
      return HoldUntil(fd, absl::InfiniteFuture(), buf);
    case Reply::Action::kRaw: {
      FinishRequest(counted);
      End end = Send(fd, reply.body);
      return end == End::kKeepAlive ? End::kServerClose : end;
    }
    case Reply::Action::kInformational:
      return Informational(fd, reply, buf);
    default:
      break;
  }
  std::optional<std::string> connection =
      fake_http::FindHeader(reply.headers, "Connection");
  bool close =
      !keep_alive ||
      (connection.has_value() && fake_http::HasToken(*connection, "close")) ||
      reply.action == Reply::Action::kTruncate;
  std::optional<size_t> length;
  if (!HasHeader(reply.headers, "Content-Length") &&
      !HasHeader(reply.headers, "Transfer-Encoding")) {
    length = reply.pattern_bytes > 0 ? reply.pattern_bytes : reply.body.size();
    if (reply.action == Reply::Action::kTruncate) ++*length;
  }
  bool head_only = req.method == "HEAD";
  std::string out = fake_http::FormatResponseHead(
      reply.status, reply.headers, length, close && !connection.has_value());
  absl::string_view body = reply.body;
  if (head_only) body = absl::string_view();
  if (reply.pattern_bytes > 0 && !head_only) {
    End end = SendPattern(fd, std::move(out), reply.pattern_offset,
                          reply.pattern_bytes, counted);
    if (end != End::kKeepAlive) return end;
  } else if (reply.action == Reply::Action::kDrip) {
    End end = Drip(fd, out, body, reply.drip_interval, buf, counted);
    if (end != End::kKeepAlive) return end;
  } else {
    absl::StrAppend(&out, body);
    FinishRequest(counted);
    End end = Send(fd, out);
    if (end != End::kKeepAlive) return end;
  }
  if (close) return End::kServerClose;
  return reply.unsolicited.empty() ? End::kKeepAlive
                                   : SendUnsolicited(fd, reply, buf);
}

FakeGitLab::End FakeGitLab::SendPattern(int fd, std::string head,
                                        uint64_t offset, uint64_t size,
                                        bool* counted) {
  End end = Send(fd, head);
  std::string piece;
  for (uint64_t sent = 0; sent < size && end == End::kKeepAlive;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size - sent, 256 << 10));
    piece.resize(n);
    FillPattern(offset + sent, piece.data(), n);
    sent += n;
    if (sent == size) FinishRequest(counted);
    end = Send(fd, piece);
  }
  return end;
}

FakeGitLab::End FakeGitLab::Drip(int fd, absl::string_view head,
                                 absl::string_view body,
                                 absl::Duration interval, std::string* buf,
                                 bool* counted) {
  if (body.empty()) FinishRequest(counted);
  End end = Send(fd, head);
  for (size_t i = 0; i < body.size() && end == End::kKeepAlive; ++i) {
    end = HoldUntil(fd, absl::Now() + interval, buf);
    if (end != End::kKeepAlive) break;
    if (i + 1 == body.size()) FinishRequest(counted);
    end = Send(fd, body.substr(i, 1));
  }
  return end;
}

// Waits until more request bytes arrive.
FakeGitLab::End FakeGitLab::ReadMore(int fd, std::string* buf) {
  switch (fake_socket::ReadSome(fd, stop_fd_, absl::InfiniteFuture(), buf)) {
    case IoResult::kOk:
    case IoResult::kTimeout:
      return End::kKeepAlive;
    case IoResult::kStopped:
      return End::kStopped;
    case IoResult::kPeerClosed:
      break;
  }
  return End::kClientClosed;
}

// Waits out a delay, stall or drip interval while watching for the client to
// close. Bytes the client pipelines meanwhile are kept in `buf`. kKeepAlive
// when `deadline` passed.
FakeGitLab::End FakeGitLab::HoldUntil(int fd, absl::Time deadline,
                                      std::string* buf) {
  for (;;) {
    switch (fake_socket::ReadSome(fd, stop_fd_, deadline, buf)) {
      case IoResult::kOk:
        break;
      case IoResult::kTimeout:
        return End::kKeepAlive;
      case IoResult::kStopped:
        return End::kStopped;
      case IoResult::kPeerClosed:
        return End::kClientClosed;
    }
  }
}

FakeGitLab::End FakeGitLab::Send(int fd, absl::string_view data) {
  switch (fake_socket::SendAll(fd, stop_fd_, data)) {
    case IoResult::kOk: {
      absl::MutexLock lock(&mu_);
      bytes_sent_ += data.size();
      return End::kKeepAlive;
    }
    case IoResult::kTimeout:
      return End::kKeepAlive;
    case IoResult::kStopped:
      return End::kStopped;
    case IoResult::kPeerClosed:
      break;
  }
  return End::kClientClosed;
}

FakeGitLab::End FakeGitLab::SendError(int fd, int status,
                                      absl::string_view message) {
  Reply reply = Reply::Text(status, std::string(message));
  std::string out = fake_http::FormatResponseHead(status, reply.headers,
                                                  reply.body.size(), true);
  out += reply.body;
  End end = Send(fd, out);
  return end == End::kKeepAlive ? End::kServerClose : end;
}

Reply FakeGitLab::RecordAndPickReply(const RecordedRequest& req) {
  std::shared_ptr<const Handler> handler;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(req);
    ++in_progress_;
    max_in_progress_ = std::max(max_in_progress_, in_progress_);
    if (!scripted_.empty()) {
      Reply reply = std::move(scripted_.front());
      scripted_.pop_front();
      return reply;
    }
    handler = handler_;
  }
  return (*handler)(req);
}

void FakeGitLab::FinishRequest(bool* counted) {
  if (!*counted) return;
  *counted = false;
  absl::MutexLock lock(&mu_);
  --in_progress_;
}

}  // namespace gitlab_gateway::testing
